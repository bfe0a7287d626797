// Wildcard subscriptions through the engine: what a pattern's subscriber receives and how the frame
// names the pattern and the concrete channel, by name and by address; private patterns signed over
// the pattern; refusals (invalid patterns, presence and encrypted types, the per-connection limit,
// client events on a pattern); unsubscribing; patterns invisible to occupancy and counts; and the
// route of a published event across two workers.
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "protocol/channel_pattern.h"
#include "support.h"

using namespace raptor;
using namespace raptor::test;

namespace {

// The channel and concrete_channel fields of a frame (concrete_channel "" when absent).
std::pair<std::string, std::string> names_of(const std::string& frame) {
  auto f = parse_frame(frame);
  const cJSON* concrete = cJSON_GetObjectItemCaseSensitive(f.root.get(), "concrete_channel");
  return {f.channel.value_or(""), cJSON_IsString(concrete) ? concrete->valuestring : ""};
}

std::vector<std::pair<std::string, std::string>> names_of(const std::vector<std::string>& frames) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& f : frames) out.push_back(names_of(f));
  return out;
}

using Names = std::vector<std::pair<std::string, std::string>>;

}  // namespace

TEST_CASE("a pattern's subscriber gets the events of matching channels, naming pattern and channel", "[wildcards]") {
  EngineHarness h;
  Connection& fan = h.connect();
  h.join_ok(fan, "galleries.*.comments");
  h.engine.publish(h.app(), "galleries.5.comments", "comment-added", "{\"text\":\"hi\"}", "");
  auto got = drain(fan);
  REQUIRE(got.size() == 1);
  CHECK(got[0] ==
        "{\"event\":\"comment-added\",\"channel\":\"galleries.*.comments\",\"concrete_channel\":\"galleries.5.comments\","
        "\"data\":\"{\\\"text\\\":\\\"hi\\\"}\"}");

  h.engine.publish(h.app(), "galleries.5.likes", "e", "d", "");
  h.engine.publish(h.app(), "galleries.5.comments.x", "e", "d", "");
  h.engine.publish(h.app(), "private-galleries.5.comments", "e", "d", "");
  CHECK(drain(fan).empty());
}

TEST_CASE("** matches one or more trailing segments", "[wildcards]") {
  EngineHarness h;
  Connection& fan = h.connect();
  h.join_ok(fan, "galleries.**");
  for (const char* ch : {"galleries.1", "galleries.1.comments", "galleries", "gallery.1", "galleries..x"})
    h.engine.publish(h.app(), ch, "e", "d", "");
  CHECK(names_of(drain(fan)) == Names{{"galleries.**", "galleries.1"}, {"galleries.**", "galleries.1.comments"}});
}

TEST_CASE("each matching subscription of a connection receives the event once", "[wildcards]") {
  EngineHarness h;
  Connection& c = h.connect();
  h.join_ok(c, "galleries.5.comments");
  h.join_ok(c, "galleries.*.comments");
  h.join_ok(c, "galleries.**");
  h.engine.publish(h.app(), "galleries.5.comments", "e", "d", "");
  auto got = names_of(drain(c));
  std::sort(got.begin(), got.end());
  CHECK(got == Names{{"galleries.**", "galleries.5.comments"},
                     {"galleries.*.comments", "galleries.5.comments"},
                     {"galleries.5.comments", ""}});
}

TEST_CASE("a subscription by address is answered and fed by address", "[wildcards]") {
  EngineHarness h;
  Connection& by_address = h.connect();
  Connection& by_name = h.connect();
  auto ack = h.join(by_address, "/channels/public/galleries/**");
  REQUIRE(ack.size() == 1);
  CHECK(parse_frame(ack[0]).event == "pusher_internal:subscription_succeeded");
  CHECK(parse_frame(ack[0]).channel == "/channels/public/galleries/**");
  h.join_ok(by_name, "galleries.**");
  h.engine.publish(h.app(), "galleries.5.comments", "e", "d", "");
  CHECK(names_of(drain(by_address)) == Names{{"/channels/public/galleries/**", "/channels/public/galleries/5/comments"}});
  CHECK(names_of(drain(by_name)) == Names{{"galleries.**", "galleries.5.comments"}});

  SECTION("subscribing again by name is acknowledged by address and changes nothing") {
    auto again = h.join(by_address, "galleries.**");
    REQUIRE(again.size() == 1);
    CHECK(parse_frame(again[0]).channel == "/channels/public/galleries/**");
    h.engine.publish(h.app(), "galleries.6", "e", "d", "");
    CHECK(drain(by_address).size() == 1);
  }
  SECTION("unsubscribing by address ends it") {
    h.send(by_address, unsubscribe_frame("/channels/public/galleries/**"));
    h.engine.publish(h.app(), "galleries.6", "e", "d", "");
    CHECK(drain(by_address).empty());
    CHECK(drain(by_name).size() == 1);
  }
}

TEST_CASE("a private pattern needs a signature over the pattern as subscribed", "[wildcards]") {
  EngineHarness h;
  Connection& c = h.connect();
  const std::string pattern = "private-galleries.*.comments";
  h.send(c, subscribe_frame(pattern, channel_auth(h.app(), c.socket_id(), "private-galleries.5.comments")));
  require_refused(drain(c), pattern, "AuthError", 401, 4304);
  h.send(c, subscribe_frame(pattern, std::nullopt));
  require_refused(drain(c), pattern, "AuthError", 401, 4304);
  h.join_ok(c, pattern);  // signed over the pattern
  CHECK(c.authorized());

  const std::string address = "/channels/private/galleries/*/comments";
  Connection& by_address = h.connect();
  h.send(by_address, subscribe_frame(address, channel_auth(h.app(), by_address.socket_id(), pattern)));
  require_refused(drain(by_address), address, "AuthError", 401, 4304);
  h.send(by_address, subscribe_frame(address, channel_auth(h.app(), by_address.socket_id(), address)));
  CHECK(events_of(drain(by_address)) == std::vector<std::string>{"pusher_internal:subscription_succeeded"});

  SECTION("client events on a matching channel reach it, never echoed to their sender") {
    Connection& sender = h.connect();
    h.join_ok(sender, "private-galleries.5.comments");
    h.join_ok(sender, pattern);
    h.send(sender, client_event_frame("client-typing", "private-galleries.5.comments", "{\"who\":1}"));
    auto got = drain(c);
    REQUIRE(got.size() == 1);
    CHECK(got[0] ==
          "{\"event\":\"client-typing\",\"channel\":\"private-galleries.*.comments\","
          "\"concrete_channel\":\"private-galleries.5.comments\",\"data\":{\"who\":1}}");
    CHECK(names_of(drain(by_address)) ==
          Names{{address, "/channels/private/galleries/5/comments"}});
    CHECK(drain(sender).empty());
  }
}

TEST_CASE("presence, privileged and encrypted patterns are refused", "[wildcards]") {
  EngineHarness h;
  Connection& c = h.connect();
  for (const std::string p : {"presence-room.*", "presence-privileged-room.*", "/channels/presence/room/*",
                              "/channels/privileged/**", "private-encrypted-*"}) {
    INFO(p);
    std::string data = channel_data("u");
    h.send(c, subscribe_frame(p, channel_auth(h.app(), c.socket_id(), p, data), data));
    auto frames = drain(c);
    require_refused(frames, p, "InvalidChannel", 400, 4303);
    CHECK_THAT(string_of(parse_frame(frames[0]).data, "message"),
               Catch::Contains("cannot be subscribed by wildcard pattern"));
  }
  CHECK_FALSE(h.engine.directory().has_patterns());
}

TEST_CASE("invalid patterns are refused with the rule they break", "[wildcards]") {
  EngineHarness h;
  Connection& c = h.connect();
  for (const std::string p : {"a.**.b", "a..*", "***", "a*", "*.", "/channels/public/a/**/b", "/channels/public/a*"}) {
    INFO(p);
    h.send(c, subscribe_frame(p));
    auto frames = drain(c);
    require_refused(frames, p, "InvalidChannel", 400, 4303);
    CHECK_THAT(string_of(parse_frame(frames[0]).data, "message"), Catch::Contains("pattern") || Catch::Contains("Segment"));
  }
}

TEST_CASE("a connection holds at most kMaxPatternsPerConnection patterns", "[wildcards]") {
  EngineHarness h;
  Connection& c = h.connect();
  for (size_t i = 0; i < kMaxPatternsPerConnection; ++i) h.join_ok(c, "p" + std::to_string(i) + ".*");
  h.send(c, subscribe_frame("one.more.*"));
  require_refused(drain(c), "one.more.*", "LimitReached", 403, 4305);
  h.join_ok(c, "p0.*");          // already held: acknowledged again
  h.join_ok(c, "a.concrete.channel");  // channels do not count
}

TEST_CASE("client events cannot be sent to a pattern", "[wildcards]") {
  EngineHarness h;
  Connection& c = h.connect();
  h.join_ok(c, "private-galleries.*");
  Connection& other = h.connect();
  h.join_ok(other, "private-galleries.*");
  h.send(c, client_event_frame("client-x", "private-galleries.*", "{}"));
  auto got = drain(c);
  REQUIRE(got.size() == 1);
  require_error(got[0], 4306);
  CHECK_THAT(string_of(parse_frame(got[0]).data, "message"), Catch::Contains("wildcard pattern"));
  CHECK(drain(other).empty());
}

TEST_CASE("patterns are not channels: no occupancy, counts or listing", "[wildcards]") {
  App app = reference_app();
  app.subscription_count_events = true;
  EngineHarness h({app});
  Connection& fan = h.connect();
  h.join_ok(fan, "news.*");  // join_ok: no subscription_count after the ack
  CHECK_FALSE(h.engine.directory().snapshot(h.app(), "news.*").occupied);
  CHECK_FALSE(h.engine.directory().snapshot(h.app(), "news.uk").occupied);
  CHECK(h.engine.directory().occupied(h.app(), "").empty());

  Connection& reader = h.connect();
  h.join(reader, "news.uk");
  CHECK(h.engine.directory().snapshot(h.app(), "news.uk").subscription_count == 1);
  CHECK(drain(fan).empty());  // the concrete channel's count is not the pattern's

  SECTION("a pattern over cache channels is live only: no replay, no cache miss") {
    h.engine.publish(h.app(), "cache-scores.1", "score", "1", "");
    Connection& late = h.connect();
    h.join_ok(late, "cache-scores.*");  // join_ok: the acknowledgement is the only frame
    h.engine.publish(h.app(), "cache-scores.1", "score", "2", "");
    CHECK(names_of(drain(late)) == Names{{"cache-scores.*", "cache-scores.1"}});
  }
}

TEST_CASE("unsubscribing or closing removes the pattern from the app's index", "[wildcards]") {
  EngineHarness h;
  Connection& a = h.connect();
  Connection& b = h.connect();
  h.join_ok(a, "news.*");
  h.join_ok(b, "news.*");
  h.send(a, unsubscribe_frame("news.*"));
  h.engine.publish(h.app(), "news.uk", "e", "d", "");
  CHECK(drain(a).empty());
  CHECK(drain(b).size() == 1);
  CHECK(h.engine.directory().has_patterns());
  h.engine.on_closed(&b);
  CHECK_FALSE(h.engine.directory().has_patterns());
}

TEST_CASE("an API event's excluded socket is excluded from its patterns too", "[wildcards]") {
  EngineHarness h;
  Connection& a = h.connect();
  Connection& b = h.connect();
  h.join_ok(a, "news.*");
  h.join_ok(b, "news.*");
  h.engine.publish(h.app(), "news.uk", "e", "d", a.socket_id());
  CHECK(drain(a).empty());
  CHECK(drain(b).size() == 1);
}

TEST_CASE("a published event reaches a pattern's subscribers on another worker, and only there", "[wildcards]") {
  TwoWorkers t;
  Connection& publisher_side = t.connect(0);
  Connection& fan = t.connect(1);
  t.send(0, publisher_side, subscribe_frame("galleries.5.comments"));
  t.send(1, fan, subscribe_frame("/channels/public/galleries/*/comments"));
  drain(publisher_side);
  drain(fan);

  t.engine[0]->publish(t.app(), "galleries.5.comments", "e", "d", "");
  REQUIRE(t.mailbox[1].queue.size() == 1);
  CHECK(*t.mailbox[1].queue[0].patterns == std::vector<std::string>{"galleries.*.comments"});
  t.pump_all();
  CHECK(names_of(drain(fan)) ==
        Names{{"/channels/public/galleries/*/comments", "/channels/public/galleries/5/comments"}});
  CHECK(drain(publisher_side).size() == 1);

  SECTION("a channel no pattern matches goes to no other worker") {
    t.engine[0]->publish(t.app(), "galleries.5.likes", "e", "d", "");
    CHECK(t.mailbox[1].queue.empty());
  }
  SECTION("once the pattern's last subscriber there leaves, nor does a matching one") {
    t.send(1, fan, unsubscribe_frame("galleries.*.comments"));
    t.engine[0]->publish(t.app(), "galleries.5.comments", "e", "d", "");
    CHECK(t.mailbox[1].queue.empty());
  }
  SECTION("client events travel the same way") {
    Connection& a = t.connect(0);
    Connection& b = t.connect(1);
    t.send(0, a, subscribe_frame("private-x.1", channel_auth(t.app(), a.socket_id(), "private-x.1")));
    t.send(1, b, subscribe_frame("private-x.*", channel_auth(t.app(), b.socket_id(), "private-x.*")));
    drain(a);
    drain(b);
    t.send(0, a, client_event_frame("client-e", "private-x.1", "{}"));
    t.pump_all();
    CHECK(names_of(drain(b)) == Names{{"private-x.*", "private-x.1"}});
  }
}
