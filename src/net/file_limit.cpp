#include "net/file_limit.h"

#include <sys/resource.h>

#include "common/log.h"

namespace raptor::net {

void raise_file_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  // A few descriptors go to listening sockets, wake-up pipes and the log.
  unsigned long long connections = limit.rlim_cur > 64 ? limit.rlim_cur - 64 : 0;
  if (limit.rlim_cur < 100000)
    log::warn("open-file limit %llu allows about %llu connections; raise the hard limit for more "
              "(systemd: LimitNOFILE=1048576, shell: ulimit -Hn as root)",
              static_cast<unsigned long long>(limit.rlim_cur), connections);
  else
    log::info("open-file limit %llu: room for about %llu connections",
              static_cast<unsigned long long>(limit.rlim_cur), connections);
}

}  // namespace raptor::net
