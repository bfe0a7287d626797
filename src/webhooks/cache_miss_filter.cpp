#include "webhooks/cache_miss_filter.h"

namespace raptor {

bool CacheMissFilter::first(const App& app, const std::string& channel, int64_t now_ms) {
  if (last_sent_.size() > kForgetAbove) {
    for (auto it = last_sent_.begin(); it != last_sent_.end();)
      it = now_ms - it->second >= window_ms_ ? last_sent_.erase(it) : std::next(it);
  }
  auto [it, added] = last_sent_.try_emplace(app.id + '\0' + channel, now_ms);
  if (added) return true;
  if (now_ms - it->second < window_ms_) return false;
  it->second = now_ms;
  return true;
}

}  // namespace raptor
