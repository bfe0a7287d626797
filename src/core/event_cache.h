// The last API event of each cache channel (cache-, private-cache-, presence-cache-,
// private-encrypted-cache-), app-wide, for subscribers that arrive later. Thread-safe: workers
// store on publish and read on subscribe, the HTTP API reads for info=cache.
// Entries live `app.cache_ttl_s`; expired ones are swept now and then as new ones are stored,
// so memory stays bounded by the channels published to within one TTL.
#pragma once
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "core/app.h"

namespace raptor {

struct CachedEvent {
  std::string frame;  // the channel event exactly as subscribers received it
  std::string data;   // its data string, for info=cache
  int64_t ttl_s = 0;  // seconds left to live
};

class EventCache {
 public:
  void store(const App& app, const std::string& channel, std::string frame, std::string data, int64_t now_ms);
  std::optional<CachedEvent> find(const App& app, const std::string& channel, int64_t now_ms) const;

 private:
  struct Entry {
    std::string frame, data;
    int64_t expires_ms;
  };
  void sweep(int64_t now_ms);

  mutable std::mutex mutex_;
  std::map<std::pair<const App*, std::string>, Entry> entries_;
  size_t stores_since_sweep_ = 0;
};

}  // namespace raptor
