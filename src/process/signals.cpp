#include "process/signals.h"

#include <pthread.h>

#include <cerrno>
#include <csignal>
#include <ctime>

namespace raptor::process {

Signals::Signals() {
  sigemptyset(&set_);
  sigaddset(&set_, SIGINT);
  sigaddset(&set_, SIGTERM);
  sigaddset(&set_, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set_, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

int Signals::wait() const {
  int sig = 0;
  return sigwait(&set_, &sig) == 0 ? sig : -1;
}

int Signals::wait_for(int64_t ms) const {
  timespec wait{time_t(ms / 1000), long(ms % 1000) * 1000000};
  int sig = sigtimedwait(&set_, nullptr, &wait);
  if (sig > 0) return sig;
  return errno == EAGAIN || errno == EINTR ? 0 : -1;
}

const char* signal_name(int sig) {
  switch (sig) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    case SIGHUP: return "SIGHUP";
    default: return "a signal";
  }
}

}  // namespace raptor::process
