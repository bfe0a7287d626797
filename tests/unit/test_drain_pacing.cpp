// core/DrainPacing: the share of a worker's connections closed at each step of a drain.
#include "core/drain_pacing.h"

#include <catch2/catch.hpp>

using namespace raptor;

namespace {

// Steps a drain of `open` connections every `step_ms` from 0; returns how many were closed at each step.
std::vector<size_t> run(size_t open, int64_t period_ms, int64_t step_ms) {
  DrainPacing pacing(0, period_ms);
  std::vector<size_t> closed;
  for (int64_t t = step_ms; open > 0; t += step_ms) {
    size_t n = pacing.due(t, open);
    REQUIRE(n <= open);
    closed.push_back(n);
    open -= n;
    REQUIRE(t <= period_ms + step_ms);
  }
  return closed;
}

}  // namespace

TEST_CASE("a drain closes evenly over its period and all by its end", "[drain]") {
  std::vector<size_t> closed = run(1000, 2000, 100);
  REQUIRE(closed.size() == 20);
  for (size_t n : closed) CHECK((n == 50 || n == 49 || n == 51));
}

TEST_CASE("a drain of few connections spreads them instead of closing them first", "[drain]") {
  std::vector<size_t> closed = run(10, 2000, 100);
  size_t first_half = 0;
  for (size_t i = 0; i < 10; ++i) first_half += closed[i];
  CHECK(first_half == 5);
  for (size_t n : closed) CHECK(n <= 1);
}

TEST_CASE("a drain period of zero closes everything at once", "[drain]") {
  DrainPacing pacing(500, 0);
  CHECK(pacing.over(500));
  CHECK(pacing.due(500, 1234) == 1234);
}

TEST_CASE("a late step closes what was due meanwhile and late arrivals share the time left", "[drain]") {
  DrainPacing pacing(0, 1000);
  CHECK(pacing.due(0, 100) == 0);
  CHECK(pacing.due(500, 100) == 50);  // the timer was late: half the period's share at once
  CHECK(pacing.due(750, 70) == 35);   // 20 arrived: 70 open over the 500 ms left
  CHECK(pacing.due(1000, 35) == 35);
  CHECK(pacing.due(1200, 3) == 3);    // after the end, everything
}
