// net/IntervalTimer over a stand-in for the worker's loop: it watches a timerfd through the
// EventPort, fires once per readable wake-up, and lets go of the descriptor when destroyed.
#include "net/interval_timer.h"

#include <poll.h>

#include <catch2/catch.hpp>

using namespace raptor;

namespace {

// The loop as the timer sees it: one watch at most, handed back by hand.
struct FakePort : cluster::EventPort {
  bool refuse = false;
  int fd = -1;
  Handler* handler = nullptr;
  int unwatched = 0;
  Watch* watch(int f, Handler& h) override {
    if (refuse) return nullptr;
    fd = f;
    handler = &h;
    return reinterpret_cast<Watch*>(this);
  }
  void want_write(Watch*) override {}
  void unwatch(Watch*) override { ++unwatched; }
};

}  // namespace

TEST_CASE("an interval timer fires each time its descriptor is readable and lets go of it when destroyed", "[net][interval_timer]") {
  FakePort port;
  int fired = 0;
  {
    net::IntervalTimer timer(port, 10, [&fired] { ++fired; });
    REQUIRE(timer.running());
    REQUIRE(port.handler);
    pollfd p{port.fd, POLLIN, 0};
    REQUIRE(poll(&p, 1, 5000) == 1);  // the kernel's timer expired
    port.handler->on_readable();
    CHECK(fired == 1);
    REQUIRE(poll(&p, 1, 5000) == 1);  // it goes on: an interval, not a one-shot
    port.handler->on_readable();
    CHECK(fired == 2);
  }
  CHECK(port.unwatched == 1);
}

TEST_CASE("an interval timer the loop refuses is not running and never fires", "[net][interval_timer]") {
  FakePort port;
  port.refuse = true;
  int fired = 0;
  net::IntervalTimer timer(port, 10, [&fired] { ++fired; });
  CHECK_FALSE(timer.running());
  CHECK(port.handler == nullptr);
  CHECK(fired == 0);
}
