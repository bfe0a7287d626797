#include "common/log_rate_limit.h"

#include <chrono>

#include "common/log.h"

namespace raptor::log {

bool may_log_now(RateLimit& limit, const char* kind, const char* what) {
  auto now = std::chrono::steady_clock::now().time_since_epoch();
  uint64_t held_back = 0;
  if (!limit.allow(std::chrono::duration_cast<std::chrono::milliseconds>(now).count(), held_back)) return false;
  if (held_back)
    info("%s: %llu more %s were not logged (over %u a second)", kind, static_cast<unsigned long long>(held_back), what,
         limit.per_second());
  return true;
}

bool RateLimit::allow(int64_t now_ms, uint64_t& held_back) {
  if (!started_ || now_ms - window_start_ms_ >= 1000) {
    started_ = true;
    window_start_ms_ = now_ms;
    written_in_window_ = 0;
  }
  if (written_in_window_ >= per_second_) {
    ++held_back_;
    return false;
  }
  ++written_in_window_;
  held_back = held_back_;
  held_back_ = 0;
  return true;
}

}  // namespace raptor::log
