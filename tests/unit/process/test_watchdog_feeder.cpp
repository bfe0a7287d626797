// process/WatchdogFeeder: when WATCHDOG=1 goes to systemd.
#include "process/watchdog_feeder.h"

#include <catch2/catch.hpp>

using namespace raptor;

TEST_CASE("without a watchdog interval nothing is sent", "[process][watchdog]") {
  service::Heartbeats beats(1);
  int pings = 0;
  process::WatchdogFeeder feeder(0, beats, [&pings] { ++pings; });
  CHECK_FALSE(feeder.enabled());
  CHECK(feeder.feed(1000) == 0);
  CHECK(pings == 0);
}

TEST_CASE("WATCHDOG=1 goes every half interval while every worker beats", "[process][watchdog]") {
  service::Heartbeats beats(2);
  int pings = 0;
  process::WatchdogFeeder feeder(4000000, beats, [&pings] { ++pings; });  // 4 s: a ping every 2 s
  beats.beat(0, 1000);
  beats.beat(1, 1000);
  CHECK(feeder.feed(1000) == 2000);
  CHECK(pings == 1);
  CHECK(feeder.feed(1500) == 1500);  // too soon: the time left until the next
  CHECK(pings == 1);
  beats.beat(0, 3000);
  beats.beat(1, 3000);
  CHECK(feeder.feed(3000) == 2000);
  CHECK(pings == 2);
}

TEST_CASE("a worker that stopped beating stops the pings, and they resume when it beats again",
          "[process][watchdog]") {
  service::Heartbeats beats(2);
  int pings = 0;
  process::WatchdogFeeder feeder(4000000, beats, [&pings] { ++pings; });
  beats.beat(0, 1000);
  beats.beat(1, 1000);
  CHECK(feeder.feed(1000) == 2000);
  beats.beat(0, 5000);  // worker 1 is stuck since 1000: older than the 2 s allowed
  CHECK(feeder.feed(5000) == 250);  // no ping; a look again soon
  CHECK(pings == 1);
  beats.beat(1, 5200);
  CHECK(feeder.feed(5250) == 2000);
  CHECK(pings == 2);
}
