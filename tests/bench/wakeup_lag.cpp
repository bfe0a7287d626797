// How late this machine wakes a thread that asked to sleep 1 ms, with no server running: the
// floor under any latency tail that raptor or loadgen can show here. A VM that pauses its guest
// now and then shows up as rare wake-ups 10 ms or more late, whatever the load.
//
//   build/wakeup_lag [seconds] [cpu]     (default: 30 s on CPU 0)
#include <sched.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <vector>

namespace {

int64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

}  // namespace

int main(int argc, char** argv) {
  int seconds = argc > 1 ? std::atoi(argv[1]) : 30;
  int cpu = argc > 2 ? std::atoi(argv[2]) : 0;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  sched_setaffinity(0, sizeof set, &set);

  const int64_t period = 1000000;
  std::vector<int64_t> lateness;
  lateness.reserve(size_t(seconds) * 1000);
  int64_t end = now_ns() + int64_t(seconds) * 1000000000;
  while (now_ns() < end) {
    int64_t due = now_ns() + period;
    timespec ts{time_t(due / 1000000000), long(due % 1000000000)};
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr);
    lateness.push_back(now_ns() - due);
  }
  std::vector<int64_t> sorted = lateness;
  std::sort(sorted.begin(), sorted.end());
  auto at = [&](double q) { return sorted[std::min(sorted.size() - 1, size_t(q * sorted.size()))] / 1e6; };
  long over5 = std::count_if(lateness.begin(), lateness.end(), [](int64_t l) { return l > 5000000; });
  long over10 = std::count_if(lateness.begin(), lateness.end(), [](int64_t l) { return l > 10000000; });
  printf("{\"cpu\": %d, \"wakeups\": %zu, \"late_p50_ms\": %.3f, \"late_p99_ms\": %.3f, \"late_p999_ms\": %.3f, "
         "\"late_max_ms\": %.1f, \"over_5ms\": %ld, \"over_10ms\": %ld}\n",
         cpu, lateness.size(), at(0.5), at(0.99), at(0.999), sorted.back() / 1e6, over5, over10);
}
