// How fast a worker closes its connections during a graceful drain (SIGTERM, docs/cluster.md#graceful-shutdown):
// evenly over the drain period, so that the clients, which reconnect at once on 4200, arrive at the
// other nodes as a steady trickle rather than all in one burst. Each call hands out the share of
// the connections still open that is due for the time elapsed since the previous call, so a
// timer that fires late closes more at once and connections that arrive meanwhile are spread
// over the time left. Fractions carry over, so a few connections over a long period are spread
// too. Plain arithmetic, used on one worker's thread.
#pragma once
#include <cstddef>
#include <cstdint>

namespace raptor {

class DrainPacing {
 public:
  // The drain runs from `start_ms` for `period_ms` (0: everything is due at once).
  DrainPacing(int64_t start_ms, int64_t period_ms) : last_ms_(start_ms), end_ms_(start_ms + period_ms) {}

  // How many of the `open` connections to close now, at `now_ms`: all of them once the period
  // is over.
  size_t due(int64_t now_ms, size_t open);
  bool over(int64_t now_ms) const { return now_ms >= end_ms_; }

 private:
  int64_t last_ms_;
  int64_t end_ms_;
  double owed_ = 0;  // the fraction of a connection due but not yet closed
};

}  // namespace raptor
