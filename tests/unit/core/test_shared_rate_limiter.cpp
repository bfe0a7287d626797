// core/shared_rate_limiter: the API's publish rate per app, shared by every worker without a lock.
#include "core/shared_rate_limiter.h"

#include <atomic>
#include <thread>
#include <vector>

#include "support.h"

using namespace raptor;

TEST_CASE("shared rate limiter: a burst at once, then the rate, and the wait until a refused request would pass", "[api-rate]") {
  SharedRateLimiter rate;
  CHECK(rate.take(0, 0, 0, 1000) == 0);  // 0 a second: no limit
  CHECK(rate.take(1000, 10, 10, 10) == 0);
  CHECK(rate.take(1000, 10, 10, 1) == 100);  // one more in 100 ms
  CHECK(rate.take(1100, 10, 10, 2) == 100);  // nothing taken by a refusal
  CHECK(rate.take(1100, 10, 10, 1) == 0);
  CHECK(rate.take(5000, 10, 10, 10) == 0);  // full again after a quiet second
  SharedRateLimiter batch;
  CHECK(batch.take(0, 2, 2, 10) == 0);  // a request larger than the burst still passes when idle
  CHECK(batch.take(0, 2, 2, 1) == 4500);  // then the whole of it is waited off
}

TEST_CASE("shared rate limiter: exact when several workers take at once", "[api-rate]") {
  SharedRateLimiter rate;
  std::atomic<int> taken{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w)
    workers.emplace_back([&] {
      for (int i = 0; i < 1000; ++i)
        if (rate.take(0, 100, 100) == 0) ++taken;
    });
  for (auto& t : workers) t.join();
  CHECK(taken == 100);
}
