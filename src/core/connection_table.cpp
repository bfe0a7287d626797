#include "core/connection_table.h"

#include <algorithm>

namespace raptor {

std::string ConnectionTable::new_socket_id() {
  // Two 7-digit numbers: 15 characters fit std::string's inline buffer (no allocation per
  // connection), with 10^14 ids to draw from.
  std::uniform_int_distribution<uint64_t> dist(1000000, 9999999);
  for (;;) {
    std::string id = std::to_string(dist(rng_)) + "." + std::to_string(dist(rng_));
    if (!map_.count(id)) return id;
  }
}

Connection* ConnectionTable::add(const App& app, void* handle, int64_t now_ms) {
  auto conn = std::make_unique<Connection>(app, new_socket_id(), handle, now_ms);
  Connection* c = conn.get();
  map_.emplace(c->socket_id(), std::move(conn));
  return c;
}

Connection* ConnectionTable::with(std::string_view socket_id) const {
  auto it = socket_id.empty() ? map_.end() : map_.find(socket_id);
  return it == map_.end() ? nullptr : it->second.get();
}

size_t ConnectionTable::open_count() const {
  size_t n = 0;
  for (const auto& entry : map_) n += !entry.second->closing();
  return n;
}

void ConnectionTable::for_each_in_part(size_t part, size_t parts, const std::function<void(Connection&)>& f) {
  size_t buckets = map_.bucket_count();
  size_t per_part = (buckets + parts - 1) / parts;
  size_t first = std::min(buckets, part * per_part), last = std::min(buckets, first + per_part);
  for (size_t b = first; b < last; ++b)
    for (auto it = map_.begin(b); it != map_.end(b); ++it) f(*it->second);
}

}  // namespace raptor
