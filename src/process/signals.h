// The signals that run the process: SIGINT (stop at once), SIGTERM (drain, then stop) and SIGHUP
// (reload). They are blocked in every thread and taken by the main thread alone, synchronously
// (sigwait), so no handler runs in the middle of a worker's work. SIGPIPE is ignored: a client
// that goes away shows as an error on its socket.
#pragma once
#include <signal.h>

#include <cstdint>

namespace raptor::process {

class Signals {
 public:
  // Blocks the three in the calling thread, whose mask the threads it starts afterwards inherit
  // (so construct this before any worker thread).
  Signals();
  // The next of the three, or -1 when waiting fails.
  int wait() const;
  // The next of the three within `ms`, 0 when none came, -1 when waiting fails.
  int wait_for(int64_t ms) const;

 private:
  sigset_t set_;
};

const char* signal_name(int sig);

}  // namespace raptor::process
