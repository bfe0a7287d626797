// Subscriptions per connection: the list that holds them (indexed once it is long, so that a
// connection with thousands of them subscribes and closes in time proportional to their number),
// the subscribe rate limiter, and the engine's per-connection cap and rate (docs/protocol.md#limits).
#include <map>
#include <random>

#include "core/rate_limiter.h"
#include "core/subscription_list.h"
#include "support.h"

using namespace raptor;
using namespace raptor::test;

namespace {

std::string channel(int i) { return "channel-with-a-longer-name-" + std::to_string(i); }

EngineLimits limits(size_t max_subscriptions, uint32_t per_second) {
  EngineLimits l;
  l.max_subscriptions = max_subscriptions;
  l.subscriptions_per_second = per_second;
  return l;
}

}  // namespace

TEST_CASE("the subscription list agrees with a map through adds and removes, short and long", "[subscriptions]") {
  SubscriptionList list;
  std::map<std::string, std::string> expected;  // channel -> user id
  std::mt19937 rng(7);
  for (int step = 0; step < 5000; ++step) {
    std::string name = (step % 7 == 0 ? "pattern.*." : "c-") + std::to_string(rng() % 300);
    if (rng() % 3 != 0 && !expected.count(name)) {
      list.add(name, Subscription{"user-" + name});
      expected[name] = "user-" + name;
    } else {
      CHECK(list.remove(name).user_id == (expected.count(name) ? expected[name] : ""));
      expected.erase(name);
    }
    REQUIRE(list.size() == expected.size());
  }
  size_t patterns = 0;
  for (const auto& [name, user] : expected) {
    INFO(name);
    REQUIRE(list.find(name) != nullptr);
    CHECK(list.find(name)->user_id == user);
    patterns += name.find('*') != std::string::npos;
  }
  CHECK(list.patterns() == patterns);
  CHECK_FALSE(list.contains("c-absent"));
  size_t visited = 0;
  list.for_each([&](const std::string& name, const Subscription& s) {
    CHECK(expected.at(name) == s.user_id);
    ++visited;
  });
  CHECK(visited == expected.size());
}

TEST_CASE("a closing connection leaves its newest subscription first, down to none", "[subscriptions]") {
  SubscriptionList list;
  for (int i = 0; i < 100; ++i) list.add(channel(i), Subscription{});
  CHECK(list.any_channel() == channel(99));
  list.remove(channel(10));  // the last one moves into its place
  CHECK(list.any_channel() == channel(98));
  CHECK(list.contains(channel(99)));
  while (!list.empty()) list.remove(std::string(list.any_channel()));
  CHECK(list.size() == 0);
  list.add("again", Subscription{"u"});  // usable again, short
  CHECK(list.find("again")->user_id == "u");
}

TEST_CASE("the rate limiter allows a burst, then the rate", "[subscriptions][rate]") {
  RateLimiter r;
  const int64_t t0 = 1'000'000;
  for (int i = 0; i < 5; ++i) CHECK(r.take(t0, 2, 5));
  CHECK_FALSE(r.take(t0, 2, 5));
  CHECK_FALSE(r.take(t0 + 499, 2, 5));
  CHECK(r.take(t0 + 500, 2, 5));  // one more every 1/2 s
  CHECK_FALSE(r.take(t0 + 600, 2, 5));
  // A quiet spell refills up to the burst, no more.
  for (int i = 0; i < 5; ++i) CHECK(r.take(t0 + 60'000, 2, 5));
  CHECK_FALSE(r.take(t0 + 60'000, 2, 5));
  RateLimiter off;
  for (int i = 0; i < 1000; ++i) CHECK(off.take(t0, 0, 1));  // 0: no limit
}

TEST_CASE("a connection holds at most max_subscriptions, and the next is refused with 4305", "[engine][subscriptions]") {
  EngineHarness h({reference_app()}, limits(3, 1000));
  Connection& c = h.connect();
  h.join_ok(c, "a");
  h.join_ok(c, "private-b");
  h.join_ok(c, "c.*");
  require_refused(h.join(c, "d"), "d", "LimitReached", 403, 4305);
  require_refused(h.join(c, "private-e"), "private-e", "LimitReached", 403, 4305);
  CHECK_FALSE(h.engine.directory().snapshot(h.app(), "d").occupied);
  h.join_ok(c, "a");  // one it holds is acknowledged again
  h.send(c, unsubscribe_frame("a"));
  h.join_ok(c, "d");  // room again
  CHECK(c.subscriptions().size() == 3);
}

TEST_CASE("subscribes over the rate are refused with 4301 and allowed again later", "[engine][subscriptions][rate]") {
  EngineHarness h({reference_app()}, limits(5, 2));  // a burst of 5, then 2 a second
  Connection& c = h.connect();
  for (int i = 0; i < 4; ++i) h.join_ok(c, channel(i));
  h.join_ok(c, channel(0));  // a repeated subscribe counts too
  require_refused(h.join(c, "late"), "late", "LimitReached", 429, 4301);
  CHECK_FALSE(h.engine.directory().snapshot(h.app(), "late").occupied);
  h.clock.advance(500);
  h.send(c, unsubscribe_frame(channel(0)));  // unsubscribes are not limited
  h.join_ok(c, "late");
  require_refused(h.join(c, "later"), "later", "LimitReached", 429, 4301);
  Connection& other = h.connect();  // per connection
  h.join_ok(other, "later");
}

TEST_CASE("closing a connection with thousands of subscriptions leaves every channel", "[engine][subscriptions]") {
  EngineHarness h({reference_app()}, limits(5000, 1'000'000));
  Connection& c = h.connect();
  Connection& stays = h.connect();
  h.join_ok(stays, channel(17));
  for (int i = 0; i < 4000; ++i) h.send(c, subscribe_frame(channel(i)));
  REQUIRE(drain(c).size() == 4000);
  REQUIRE(h.engine.directory().occupied(h.app(), "").size() == 4000);
  h.engine.on_closed(&c);
  auto occupied = h.engine.directory().occupied(h.app(), "");
  REQUIRE(occupied.size() == 1);
  CHECK(h.engine.directory().snapshot(h.app(), channel(17)).subscription_count == 1);
}
