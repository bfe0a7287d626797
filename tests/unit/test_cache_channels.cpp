// Cache channels: the last API event replayed right after subscription_succeeded, or
// pusher:cache_miss; only API events are cached; the TTL; and the EventCache behind it.
#include "core/engine.h"

#include "support.h"

using namespace raptor;
using namespace raptor::test;

namespace {

std::string ack(const std::string& channel) {
  return "{\"event\":\"pusher_internal:subscription_succeeded\",\"channel\":\"" + channel + "\",\"data\":\"{}\"}";
}
std::string miss(const std::string& channel) {
  return "{\"event\":\"pusher:cache_miss\",\"channel\":\"" + channel + "\"}";
}
std::string api_event(const std::string& channel, const std::string& event, const std::string& data) {
  return "{\"event\":\"" + event + "\",\"channel\":\"" + channel + "\",\"data\":\"" + data + "\"}";
}

}  // namespace

TEST_CASE("every cache prefix replays the last API event after subscription_succeeded", "[cache]") {
  EngineHarness h;
  for (std::string channel : {"cache-a", "private-cache-a", "private-encrypted-cache-a"}) {
    INFO(channel);
    h.engine.publish(h.app(), channel, "first", "1", "");
    h.engine.publish(h.app(), channel, "second", "2", "");
    Connection& c = h.connect();
    CHECK(h.join(c, channel) == std::vector<std::string>{ack(channel), api_event(channel, "second", "2")});
  }
  h.engine.publish(h.app(), "presence-cache-a", "only", "x", "");
  Connection& p = h.connect();
  auto frames = h.join(p, "presence-cache-a", channel_data("u"));
  REQUIRE(frames.size() == 2);
  CHECK(parse_frame(frames[0]).event == "pusher_internal:subscription_succeeded");
  CHECK(frames[1] == api_event("presence-cache-a", "only", "x"));
}

TEST_CASE("a cache channel with nothing cached answers pusher:cache_miss", "[cache]") {
  EngineHarness h;
  Connection& c = h.connect();
  CHECK(h.join(c, "cache-empty") == std::vector<std::string>{ack("cache-empty"), miss("cache-empty")});
  // A repeated subscribe changes nothing and replays nothing.
  h.send(c, subscribe_frame("cache-empty"));
  CHECK(drain(c) == std::vector<std::string>{ack("cache-empty")});
  // Other channels have no cache.
  h.engine.publish(h.app(), "news", "e", "d", "");
  Connection& d = h.connect();
  CHECK(h.join(d, "news") == std::vector<std::string>{ack("news")});
}

TEST_CASE("client events are not cached, API events reach subscribers and the cache", "[cache]") {
  EngineHarness h;
  Connection& a = h.connect();
  Connection& b = h.connect();
  h.join(a, "private-cache-chat");
  h.send(a, client_event_frame("client-typing", "private-cache-chat", "{}"));
  CHECK(h.join(b, "private-cache-chat") == std::vector<std::string>{ack("private-cache-chat"), miss("private-cache-chat")});
  h.engine.publish(h.app(), "private-cache-chat", "e", "d", "");
  CHECK(drain(a) == std::vector<std::string>{api_event("private-cache-chat", "e", "d")});
}

TEST_CASE("cached events expire after the app's cache TTL", "[cache]") {
  App app = reference_app();
  app.cache_ttl_s = 60;
  EngineHarness h({app});
  h.engine.publish(h.app(), "cache-t", "e", "d", "");
  auto cached = h.engine.cached_event(h.app(), "cache-t");
  REQUIRE(cached);
  CHECK(cached->ttl_s == 60);
  CHECK(cached->data == "d");
  h.clock.advance(59'500);
  CHECK(h.engine.cached_event(h.app(), "cache-t")->ttl_s == 1);
  h.clock.advance(500);
  CHECK_FALSE(h.engine.cached_event(h.app(), "cache-t"));
  Connection& c = h.connect();
  CHECK(h.join(c, "cache-t") == std::vector<std::string>{ack("cache-t"), miss("cache-t")});
}

TEST_CASE("EventCache keeps apps apart and sweeps expired entries as it stores", "[cache]") {
  App one = reference_app("1"), two = reference_app("2");
  one.cache_ttl_s = two.cache_ttl_s = 10;
  EventCache cache;
  cache.store(one, "cache-x", "frame-1", "d1", 0);
  CHECK_FALSE(cache.find(two, "cache-x", 0));
  cache.store(two, "cache-x", "frame-2", "d2", 0);
  CHECK(cache.find(one, "cache-x", 0)->frame == "frame-1");
  CHECK(cache.find(two, "cache-x", 0)->frame == "frame-2");
  // Long after: many stores of other channels sweep the expired ones; the store still works.
  for (int i = 0; i < 10; ++i) cache.store(one, "cache-" + std::to_string(i), "f", "d", 20'000);
  CHECK_FALSE(cache.find(one, "cache-x", 20'000));
  CHECK(cache.find(one, "cache-9", 20'000));
}
