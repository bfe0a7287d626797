// pusher_internal:subscription_count: sent to a channel's subscribers when its count changes,
// only for apps that opt in, never on presence channels, and throttled on large channels.
#include "core/engine.h"

#include "support.h"

using namespace raptor;
using namespace raptor::test;

namespace {

App counting_app() {
  App app = reference_app();
  app.subscription_count_events = true;
  return app;
}

// The counts in the subscription_count frames of `frames`, in order.
std::vector<int> counts(const std::vector<std::string>& frames) {
  std::vector<int> out;
  for (const auto& text : frames) {
    auto f = parse_frame(text);
    if (f.event != "pusher_internal:subscription_count") continue;
    REQUIRE(cJSON_IsObject(f.data));  // an object, as pusher-js reads data.subscription_count
    out.push_back(int(number_of(f.data, "subscription_count")));
  }
  return out;
}

}  // namespace

TEST_CASE("subscription counts go to every subscriber when they change", "[count]") {
  EngineHarness h({counting_app()});
  Connection& a = h.connect();
  Connection& b = h.connect();
  auto first = h.join(a, "room");
  REQUIRE(first.size() == 2);
  CHECK(parse_frame(first[0]).event == "pusher_internal:subscription_succeeded");
  CHECK(first[1] == "{\"event\":\"pusher_internal:subscription_count\",\"channel\":\"room\",\"data\":{\"subscription_count\":1}}");
  CHECK(counts(h.join(b, "room")) == std::vector<int>{2});
  CHECK(counts(drain(a)) == std::vector<int>{2});
  h.send(b, unsubscribe_frame("room"));
  CHECK(counts(drain(a)) == std::vector<int>{1});
  CHECK(drain(b).empty());
  h.engine.on_closed(&b);
  CHECK(drain(a).empty());  // b had left already
}

TEST_CASE("no subscription counts on presence channels or for apps that did not opt in", "[count]") {
  SECTION("presence") {
    EngineHarness h({counting_app()});
    Connection& a = h.connect();
    CHECK(counts(h.join(a, "presence-room", channel_data("a"))).empty());
  }
  SECTION("not opted in") {
    EngineHarness h;
    Connection& a = h.connect();
    Connection& b = h.connect();
    h.join(a, "room");
    CHECK(counts(h.join(b, "room")).empty());
    CHECK(counts(drain(a)).empty());
  }
}

TEST_CASE("above 100 subscriptions a count goes out at most every 5 s, the newest last", "[count]") {
  EngineHarness h({counting_app()});
  std::vector<Connection*> subs;
  for (int i = 0; i < 101; ++i) {
    subs.push_back(&h.connect());
    h.join(*subs.back(), "big");
  }
  Connection& watcher = *subs.front();
  // Up to 100 every change goes out; the 101st came within 5 s of the 100th.
  auto sent = counts(drain(watcher));
  CHECK(sent.size() == 99);  // 2 to 100: its own 1 came with its join
  CHECK(sent.back() == 100);
  Connection& extra1 = h.connect();
  Connection& extra2 = h.connect();
  h.join(extra1, "big");
  h.join(extra2, "big");
  CHECK(counts(drain(watcher)).empty());  // within 5 s of the last count
  h.clock.advance(4'999);
  h.engine.tick();
  CHECK(counts(drain(watcher)).empty());
  h.clock.advance(1);
  h.engine.tick();
  CHECK(counts(drain(watcher)) == std::vector<int>{103});
  h.clock.advance(10'000);
  h.engine.tick();
  CHECK(counts(drain(watcher)).empty());  // nothing new
  h.send(extra2, unsubscribe_frame("big"));  // the period is over: at once
  CHECK(counts(drain(watcher)) == std::vector<int>{102});
}
