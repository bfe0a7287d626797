// The worker's open connections by socket id, and the socket ids they are given. The table owns
// its connections: one leaves it (and is deleted) only when the transport has closed its socket.
// A socket id is two 7-digit numbers ("1234567.7654321", as Pusher's), drawn at random and unique
// among the worker's connections; other workers' ids may repeat it, which Pusher allows too
// (an id only names a connection to the app's auth endpoint and in except_socket_id).
// Single-threaded: the worker's loop.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/app.h"
#include "core/connection.h"

namespace raptor {

class ConnectionTable {
 public:
  // The key views the id inside the connection it maps to.
  using Map = std::unordered_map<std::string_view, std::unique_ptr<Connection>>;

  ConnectionTable() : rng_(std::random_device{}()) {}

  // A new connection of `app` with a fresh socket id, opened at `now_ms`.
  Connection* add(const App& app, void* handle, int64_t now_ms);
  // Deletes `c`.
  void remove(const Connection& c) { map_.erase(map_.find(c.socket_id())); }

  // The connection with `socket_id`, or null (an empty id names none).
  Connection* with(std::string_view socket_id) const;
  Map::iterator find(std::string_view socket_id) { return map_.find(socket_id); }
  Map::const_iterator find(std::string_view socket_id) const { return map_.find(socket_id); }
  Map::iterator begin() { return map_.begin(); }
  Map::iterator end() { return map_.end(); }
  Map::const_iterator begin() const { return map_.begin(); }
  Map::const_iterator end() const { return map_.end(); }
  size_t size() const { return map_.size(); }
  // Connections not closing yet.
  size_t open_count() const;

  // Calls `f` on each connection of part `part` of `parts`, by hash buckets: over `parts` calls,
  // one per part, every connection is visited once. A rehash between two parts moves connections
  // between ranges, so one may be visited twice or once fewer in that round. `f` may close a
  // connection but not add or remove one.
  void for_each_in_part(size_t part, size_t parts, const std::function<void(Connection&)>& f);

 private:
  std::string new_socket_id();

  std::mt19937_64 rng_;
  Map map_;
};

}  // namespace raptor
