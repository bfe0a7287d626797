#include "common/log_rate_limit.h"

namespace raptor::log {

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
