#include "process/watchdog_feeder.h"

#include <algorithm>

namespace raptor::process {

WatchdogFeeder::WatchdogFeeder(uint64_t usec, const service::Heartbeats& heartbeats, std::function<void()> ping)
    : usec_(usec), heartbeats_(heartbeats), ping_(std::move(ping)) {}

int64_t WatchdogFeeder::feed(int64_t now_ms) {
  if (usec_ == 0) return 0;
  int64_t half_ms = std::max<int64_t>(int64_t(usec_ / 2000), 10);
  if (fed_ms_ && now_ms - fed_ms_ < half_ms) return half_ms - (now_ms - fed_ms_);
  // A worker that has not beaten lately: no ping, and a look again soon, should it beat again.
  if (!heartbeats_.all_fresh(now_ms, service::heartbeat_max_age_ms(usec_))) return std::min<int64_t>(half_ms, 250);
  ping_();
  fed_ms_ = now_ms;
  return half_ms;
}

}  // namespace raptor::process
