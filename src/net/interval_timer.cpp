#include "net/interval_timer.h"

#include <sys/timerfd.h>
#include <unistd.h>

namespace raptor::net {

IntervalTimer::IntervalTimer(cluster::EventPort& port, int64_t period_ms, std::function<void()> fire)
    : port_(port), fire_(std::move(fire)) {
  fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (fd_ < 0) return;
  itimerspec every{};
  every.it_interval.tv_sec = period_ms / 1000;
  every.it_interval.tv_nsec = (period_ms % 1000) * 1000000;
  every.it_value = every.it_interval;
  if (timerfd_settime(fd_, 0, &every, nullptr) == 0) watch_ = port_.watch(fd_, *this);
}

IntervalTimer::~IntervalTimer() {
  if (watch_) port_.unwatch(watch_);
  if (fd_ >= 0) close(fd_);
}

void IntervalTimer::on_readable() {
  uint64_t expirations;
  // Also called when the loop lets go of the descriptor: then there is nothing to read.
  if (read(fd_, &expirations, sizeof expirations) == sizeof expirations) fire_();
}

}  // namespace raptor::net
