// Feeds systemd's watchdog (common/watchdog.h) from the main thread: WATCHDOG=1 every half
// interval, and only while every worker's loop still beats, so that a stuck worker stops the
// pings and systemd restarts the process. The workers beat from their once-a-second tick
// (Worker::each_second).
#pragma once
#include <cstdint>
#include <functional>

#include "common/watchdog.h"

namespace raptor::process {

class WatchdogFeeder {
 public:
  // `usec`: the interval systemd asks for (service::watchdog_usec), 0 for no watchdog. `ping`
  // sends WATCHDOG=1.
  WatchdogFeeder(uint64_t usec, const service::Heartbeats& heartbeats, std::function<void()> ping);
  bool enabled() const { return usec_ != 0; }
  // Pings when half an interval has passed since the last ping and every worker beat lately;
  // returns the ms until it is worth calling again (0: no watchdog).
  int64_t feed(int64_t now_ms);

 private:
  uint64_t usec_;
  const service::Heartbeats& heartbeats_;
  std::function<void()> ping_;
  int64_t fed_ms_ = 0;  // when the last ping went
};

}  // namespace raptor::process
