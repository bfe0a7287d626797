// CacheMissFilter (src/webhooks/cache_miss_filter.h): one cache_miss per channel per window.
#include "webhooks/cache_miss_filter.h"

#include "support.h"

using namespace raptor;
using namespace raptor::test;

TEST_CASE("cache-miss filter: the first of a window passes, per app and channel", "[webhooks][cache_miss]") {
  CacheMissFilter filter(1000);
  App a = reference_app("a"), b = reference_app("b");
  CHECK(filter.first(a, "room", 0));
  CHECK_FALSE(filter.first(a, "room", 999));
  CHECK(filter.first(a, "hall", 999));
  CHECK(filter.first(b, "room", 999));
  CHECK(filter.first(a, "room", 1000));  // a new window from the one that passed
  CHECK_FALSE(filter.first(a, "room", 1999));
}

TEST_CASE("cache-miss filter: many channels are forgotten once their window passed, not before",
          "[webhooks][cache_miss]") {
  CacheMissFilter filter(1000);
  App a = reference_app("a");
  for (int i = 0; i <= 5000; ++i) REQUIRE(filter.first(a, "c" + std::to_string(i), 0));
  CHECK_FALSE(filter.first(a, "c1", 500));  // within its window: still remembered
  CHECK(filter.first(a, "c2", 1000));
}
