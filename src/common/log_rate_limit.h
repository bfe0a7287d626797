// How many lines of one kind a log writer lets through per second, so that a client cannot flood
// the log (with requests answered 4xx, say) and bury what matters. The first `per_second` lines
// of each second are written; the rest are counted, and the count is reported with the next line
// that is written. Not thread-safe: each worker keeps its own.
#pragma once
#include <cstdint>

namespace raptor::log {

class RateLimit {
 public:
  explicit RateLimit(uint32_t per_second) : per_second_(per_second) {}

  // Whether a line may be written at `now_ms` (a monotonic clock). When it may, `held_back` is
  // the number of lines refused since the last one written, and the count starts again.
  bool allow(int64_t now_ms, uint64_t& held_back);
  uint32_t per_second() const { return per_second_; }

 private:
  uint32_t per_second_;
  int64_t window_start_ms_ = 0;
  uint32_t written_in_window_ = 0;
  uint64_t held_back_ = 0;
  bool started_ = false;
};

// Whether a line limited by `limit` may be written now (the monotonic clock). When lines were
// held back since the last one, logs that first, at info: "KIND: N more WHAT were not logged
// (over P a second)".
bool may_log_now(RateLimit& limit, const char* kind, const char* what);

}  // namespace raptor::log
