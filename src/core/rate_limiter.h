// A rate with a burst: on average at most `per_second` actions a second, and up to `burst` at
// once after a quiet spell. The generic cell rate algorithm: one number, the time at which the
// limiter is empty again (theoretical arrival time), so it costs a connection 8 bytes. Not
// thread-safe: each limiter belongs to one thread's object.
#pragma once
#include <algorithm>
#include <cstdint>

namespace raptor {

class RateLimiter {
 public:
  // True, counting the action, when it is within the rate; false (nothing counted) when not.
  bool take(int64_t now_ms, uint32_t per_second, uint32_t burst) {
    if (per_second == 0) return true;
    int64_t now_us = now_ms * 1000, interval_us = 1000000 / per_second;
    int64_t empty_at = std::max(empty_at_us_, now_us);
    if (empty_at - now_us > int64_t(std::max<uint32_t>(burst, 1) - 1) * interval_us) return false;
    empty_at_us_ = empty_at + interval_us;
    return true;
  }
  // Whether the limiter is back to its full burst at `now_ms`: it remembers nothing then.
  bool idle(int64_t now_ms) const { return empty_at_us_ <= now_ms * 1000; }

 private:
  int64_t empty_at_us_ = 0;
};

}  // namespace raptor
