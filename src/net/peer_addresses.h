// The client's address for a descriptor whose TCP peer is not the client: the worker's end of a
// bridged WebSocket's socket pair (http_connection.h), whose peer lws would see as the worker
// itself, and a connection whose PROXY protocol header named the client (arrival.h). Noted under
// the descriptor, taken once by whoever serves it. A new descriptor forgets what was noted under
// its number before: a connection that closed before taking its address must not lend it to the
// next one given that number. On the worker's thread.
#pragma once
#include <optional>
#include <string>
#include <unordered_map>

namespace raptor::net {

class PeerAddresses {
 public:
  void note(int fd, std::string address) { peers_[fd] = std::move(address); }
  // The address noted for `fd`, which is forgotten; nullopt when none.
  std::optional<std::string> take(int fd);
  // `fd` is a new descriptor: whatever was noted under its number belonged to a closed one.
  void forget(int fd) {
    if (!peers_.empty()) peers_.erase(fd);
  }

 private:
  std::unordered_map<int, std::string> peers_;
};

}  // namespace raptor::net
