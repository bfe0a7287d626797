// cache_miss is sent once per channel per window (cache_miss_window_ms): a channel that many
// clients subscribe to at once before anything was cached would otherwise send one per client.
// Not thread-safe: WebhookQueue guards it.
#pragma once
#include <cstdint>
#include <string>
#include <unordered_map>

#include "core/app.h"

namespace raptor {

class CacheMissFilter {
 public:
  explicit CacheMissFilter(int64_t window_ms) : window_ms_(window_ms) {}

  // Whether a cache_miss of `channel` at `now_ms` is the first of its window, and so is sent.
  bool first(const App& app, const std::string& channel, int64_t now_ms);

 private:
  // Past this many channels, those whose window has passed are forgotten (now and then).
  static constexpr size_t kForgetAbove = 4096;

  int64_t window_ms_;
  std::unordered_map<std::string, int64_t> last_sent_;  // app id NUL channel -> when last sent
};

}  // namespace raptor
