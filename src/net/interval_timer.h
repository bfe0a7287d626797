// A timer that fires every `period_ms` on a worker's event loop: a timerfd watched through the
// worker's EventPort, like a Redis socket. Not an lws_sul: under the libev loop libwebsockets 4.1
// does not bring its wait forward for a sooner sul, so a 100 ms one could fire a second late.
// Made, used and destroyed on the worker's thread, while its lws context exists.
#pragma once
#include <cstdint>
#include <functional>

#include "cluster/event_port.h"

namespace raptor::net {

class IntervalTimer : private cluster::EventPort::Handler {
 public:
  IntervalTimer(cluster::EventPort& port, int64_t period_ms, std::function<void()> fire);
  ~IntervalTimer() override;
  IntervalTimer(const IntervalTimer&) = delete;
  IntervalTimer& operator=(const IntervalTimer&) = delete;
  // False when the timer could not be made (no descriptor left): it never fires.
  bool running() const { return watch_ != nullptr; }

 private:
  void on_readable() override;
  void on_writable() override {}

  cluster::EventPort& port_;
  std::function<void()> fire_;
  int fd_ = -1;
  cluster::EventPort::Watch* watch_ = nullptr;
};

}  // namespace raptor::net
