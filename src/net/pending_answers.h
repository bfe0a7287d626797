// The HTTP answers a worker is computing (http_connection.h), by number. An answer may come after
// its connection has gone (a cluster read that waited for Redis), so the caller keeps the number,
// never the connection: a connection that closes forgets its number, and a late answer then finds
// nobody. On the worker's thread.
#pragma once
#include <cstddef>
#include <cstdint>
#include <unordered_map>

namespace raptor::net {

class HttpConnection;

class PendingAnswers {
 public:
  // Numbers an answer being computed for `c`.
  uint64_t await(HttpConnection* c);
  // The connection answer `id` is for, and forgets it; null when that connection has gone.
  HttpConnection* take(uint64_t id);
  // `id`'s connection closed before its answer came.
  void forget(uint64_t id) { awaiting_.erase(id); }
  size_t size() const { return awaiting_.size(); }

 private:
  std::unordered_map<uint64_t, HttpConnection*> awaiting_;
  uint64_t begun_ = 0;
};

}  // namespace raptor::net
