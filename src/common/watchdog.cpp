#include "common/watchdog.h"

#include <chrono>
#include <cstdlib>

namespace raptor::service {

uint64_t watchdog_usec(const char* usec, const char* pid, pid_t self) {
  if (!usec || !*usec) return 0;
  if (pid && *pid) {
    char* end = nullptr;
    long long p = strtoll(pid, &end, 10);
    if (*end || p != self) return 0;
  }
  char* end = nullptr;
  unsigned long long n = strtoull(usec, &end, 10);
  if (*end || *usec == '-' || n == 0) return 0;
  return n;
}

Heartbeats::Heartbeats(size_t workers) : last_ms_(workers) {
  for (auto& t : last_ms_) t.store(INT64_MIN / 2, std::memory_order_relaxed);
}

void Heartbeats::beat(size_t worker, int64_t now_ms) {
  if (worker < last_ms_.size()) last_ms_[worker].store(now_ms, std::memory_order_relaxed);
}

bool Heartbeats::all_fresh(int64_t now_ms, int64_t max_age_ms) const {
  for (const auto& t : last_ms_)
    if (now_ms - t.load(std::memory_order_relaxed) > max_age_ms) return false;
  return true;
}

int64_t monotonic_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

int64_t heartbeat_max_age_ms(uint64_t watchdog_usec) {
  int64_t half = int64_t(watchdog_usec / 2000);
  return half < 2000 ? 2000 : half;
}

}  // namespace raptor::service
