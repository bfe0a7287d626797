// A rate with a burst that any thread may take from: RateLimiter's cell rate algorithm on one
// atomic (the time at which the limiter is empty again), moved forward by compare-and-swap, so
// that a rate shared by every worker is exact without a lock. Copies start empty: a limiter
// belongs to the running object (an app), not to its settings (see NodeConnections).
#pragma once
#include <algorithm>
#include <atomic>
#include <cstdint>

namespace raptor {

class SharedRateLimiter {
 public:
  SharedRateLimiter() = default;
  SharedRateLimiter(const SharedRateLimiter&) {}
  SharedRateLimiter& operator=(const SharedRateLimiter&) { return *this; }

  // Takes `n` actions at `now_ms` when they are within `per_second` on average, up to `burst` at
  // once, and answers 0; else takes nothing and answers the milliseconds until they would be
  // (at least 1). A `per_second` of 0 takes anything.
  int64_t take(int64_t now_ms, uint32_t per_second, uint32_t burst, uint32_t n = 1) const {
    if (per_second == 0) return 0;
    int64_t now_us = now_ms * 1000, interval_us = 1000000 / per_second;
    int64_t allowance_us = int64_t(std::max(burst, n)) * interval_us;  // a request never out of reach
    int64_t seen = empty_at_us_.load(std::memory_order_relaxed);
    for (;;) {
      int64_t after = std::max(seen, now_us) + int64_t(n) * interval_us;
      if (after - now_us > allowance_us) return std::max<int64_t>((after - now_us - allowance_us + 999) / 1000, 1);
      if (empty_at_us_.compare_exchange_weak(seen, after, std::memory_order_relaxed)) return 0;
    }
  }

 private:
  mutable std::atomic<int64_t> empty_at_us_{0};
};

}  // namespace raptor
