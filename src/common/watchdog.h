// systemd's watchdog (WatchdogSec= in the unit, sd_watchdog_enabled(3)): the service manager
// kills and restarts raptor when it has not heard "WATCHDOG=1" for the interval. The main thread
// sends it every half interval, and only while each worker's loop has beaten lately (the worker's
// once-a-second tick records a heartbeat), so that a worker stuck in a loop or a deadlock stops
// the pings and the process is restarted, while an idle but healthy server keeps them going.
#pragma once
#include <atomic>
#include <cstdint>
#include <sys/types.h>
#include <vector>

namespace raptor::service {

// The interval in microseconds systemd asks for: $WATCHDOG_USEC when it is a positive number and
// $WATCHDOG_PID is unset or `self` (a child would not be the watched process); else 0, no watchdog.
uint64_t watchdog_usec(const char* usec, const char* pid, pid_t self);

// Each worker's last heartbeat on a monotonic clock: written by the worker, read by the main thread.
class Heartbeats {
 public:
  explicit Heartbeats(size_t workers);
  void beat(size_t worker, int64_t now_ms);
  // Whether every worker beat within `max_age_ms` of `now_ms`: then WATCHDOG=1 may go.
  bool all_fresh(int64_t now_ms, int64_t max_age_ms) const;

 private:
  std::vector<std::atomic<int64_t>> last_ms_;
};

// The clock heartbeats are on (CLOCK_MONOTONIC, in ms).
int64_t monotonic_ms();

// How old a heartbeat may be for the ping to go: half the interval, but at least twice the
// workers' one-second tick, so that a tick that comes a little late costs no ping.
int64_t heartbeat_max_age_ms(uint64_t watchdog_usec);

}  // namespace raptor::service
