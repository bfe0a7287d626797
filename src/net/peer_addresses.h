// The address of the client behind each bridged WebSocket (http_connection.h): libwebsockets sees
// the worker's end of a socket pair as its peer, so the bridge notes the real address under that
// end's descriptor, and the WebSocket's handshake takes it once. On the worker's thread.
#pragma once
#include <optional>
#include <string>
#include <unordered_map>

namespace raptor::net {

class BridgedPeers {
 public:
  void note(int fd, std::string address) { peers_[fd] = std::move(address); }
  // The address noted for `fd`, which is forgotten; nullopt when none (not a bridge).
  std::optional<std::string> take(int fd);

 private:
  std::unordered_map<int, std::string> peers_;
};

}  // namespace raptor::net
