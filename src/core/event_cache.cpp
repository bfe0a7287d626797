#include "core/event_cache.h"

namespace raptor {

void EventCache::store(const App& app, const std::string& channel, std::string frame, std::string data,
                       int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mutex_);
  // A sweep after as many stores as there are entries: amortized O(log n) per store.
  if (++stores_since_sweep_ > entries_.size()) sweep(now_ms);
  entries_[{&app, channel}] = Entry{std::move(frame), std::move(data), now_ms + int64_t(app.cache_ttl_s) * 1000};
}

std::optional<CachedEvent> EventCache::find(const App& app, const std::string& channel, int64_t now_ms) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = entries_.find({&app, channel});
  if (it == entries_.end() || it->second.expires_ms <= now_ms) return std::nullopt;
  // Whole seconds left, rounded up: an entry with 0.5 s to live reports 1, never 0.
  return CachedEvent{it->second.frame, it->second.data, (it->second.expires_ms - now_ms + 999) / 1000};
}

void EventCache::sweep(int64_t now_ms) {
  stores_since_sweep_ = 0;
  for (auto it = entries_.begin(); it != entries_.end();)
    it = it->second.expires_ms <= now_ms ? entries_.erase(it) : std::next(it);
}

}  // namespace raptor
