// Subscribing by URL resource (/channels/{type}/…): the same channel as its name, with every frame
// the subscriber gets spelled the way it subscribed — events, member events, cache replays, client
// events from either spelling — and bad addresses refused with the rule broken.
#include "core/engine.h"

#include "support.h"

using namespace raptor;
using namespace raptor::test;

namespace {

const std::string kName = "private-galleries.123.comments";
const std::string kAddress = "/channels/private/galleries/123/comments";

// Subscribes `c` by `address`, signed over the address (what the app's auth endpoint is given).
std::vector<std::string> join_by_address(EngineHarness& h, Connection& c, const std::string& address,
                                         const std::optional<std::string>& data = std::nullopt) {
  drain(c);
  h.send(c, subscribe_frame(address, channel_auth(c.app(), c.socket_id(), address, data), data));
  return drain(c);
}

std::string event_on(const std::string& channel, const std::string& data = "d") {
  return "{\"event\":\"e\",\"channel\":\"" + channel + "\",\"data\":\"" + data + "\"}";
}

}  // namespace

TEST_CASE("a subscriber by address gets the channel's events spelled by address", "[address]") {
  EngineHarness h;
  Connection& by_name = h.connect();
  Connection& by_address = h.connect();
  h.join_ok(by_name, kName);
  auto acks = join_by_address(h, by_address, kAddress);
  REQUIRE(acks.size() == 1);
  CHECK(parse_frame(acks[0]).event == "pusher_internal:subscription_succeeded");
  CHECK(parse_frame(acks[0]).channel == kAddress);

  h.engine.publish(h.app(), kName, "e", "d", "");
  CHECK(drain(by_name) == std::vector<std::string>{event_on(kName)});
  CHECK(drain(by_address) == std::vector<std::string>{event_on(kAddress)});
  CHECK(h.engine.directory().snapshot(h.app(), kName).subscription_count == 2);

  SECTION("client events cross between the spellings") {
    h.send(by_address, client_event_frame("client-hi", kAddress, "{\"n\":1}"));
    auto got = drain(by_name);
    REQUIRE(got.size() == 1);
    CHECK(parse_frame(got[0]).channel == kName);
    h.send(by_name, client_event_frame("client-hi", kName, "{\"n\":2}"));
    got = drain(by_address);
    REQUIRE(got.size() == 1);
    CHECK(parse_frame(got[0]).channel == kAddress);
  }
  SECTION("unsubscribing by address ends the subscription") {
    h.send(by_address, unsubscribe_frame(kAddress));
    h.engine.publish(h.app(), kName, "e", "d", "");
    CHECK(drain(by_address).empty());
    CHECK(h.engine.directory().snapshot(h.app(), kName).subscription_count == 1);
  }
  SECTION("subscribing again by either spelling acknowledges in the first spelling") {
    h.send(by_address, subscribe_frame(kName, channel_auth(h.app(), by_address.socket_id(), kName)));
    auto again = drain(by_address);
    REQUIRE(again.size() == 1);
    CHECK(parse_frame(again[0]).channel == kAddress);
  }
}

TEST_CASE("presence member events and cache replays follow the spelling", "[address]") {
  EngineHarness h;
  Connection& watcher = h.connect();
  join_by_address(h, watcher, "/channels/presence/room/7", channel_data("w"));
  Connection& joiner = h.connect();
  h.join_ok(joiner, "presence-room.7", channel_data("j"));
  auto added = drain(watcher);
  REQUIRE(added.size() == 1);
  CHECK(parse_frame(added[0]).event == "pusher_internal:member_added");
  CHECK(parse_frame(added[0]).channel == "/channels/presence/room/7");

  h.engine.publish(h.app(), "cache-news.uk", "e", "d", "");
  Connection& late = h.connect();
  auto frames = join_by_address(h, late, "/channels/public/cache-news/uk");
  REQUIRE(frames.size() == 2);
  CHECK(frames[1] == event_on("/channels/public/cache-news/uk"));
  Connection& early = h.connect();
  auto miss = join_by_address(h, early, "/channels/public/cache-nothing");
  REQUIRE(miss.size() == 2);
  CHECK(miss[1] == "{\"event\":\"pusher:cache_miss\",\"channel\":\"/channels/public/cache-nothing\"}");
}

TEST_CASE("bad addresses and signatures over the other spelling are refused", "[address]") {
  EngineHarness h;
  Connection& c = h.connect();
  auto refused = join_by_address(h, c, "/channels/public/private-x");
  REQUIRE(refused.size() == 2);
  CHECK(parse_frame(refused[0]).event == "pusher:error");
  CHECK(refused[0].find("4303") != std::string::npos);
  CHECK(refused[0].find("reserved prefix") != std::string::npos);
  CHECK(parse_frame(refused[1]).channel == "/channels/public/private-x");
  CHECK(join_by_address(h, c, "/channels/nowhere/x").size() == 2);
  // The signature covers the spelling sent: one made for the name does not open the address.
  h.send(c, subscribe_frame(kAddress, channel_auth(h.app(), c.socket_id(), kName)));
  auto wrong = drain(c);
  REQUIRE(wrong.size() == 2);
  CHECK(wrong[0].find("4304") != std::string::npos);
  CHECK(c.subscriptions().empty());
}

// The authorize hook is told whether the subscription was signed; by address, the app signed the
// address (what pusher-js sent its auth endpoint), so that is the signature checked.
TEST_CASE("the authorize hook sees a subscription by address as signed", "[address][policy]") {
  struct RecordingPolicy : PassingPolicy {
    std::vector<std::pair<std::string, bool>> asked;  // channel, signed
    bool has(const App&, Hook hook) const override { return hook == Hook::Authorize; }
    PolicyVerdict authorize(const SubscriptionRequest& r) override {
      asked.emplace_back(std::string(r.channel), r.signed_ok);
      return {};
    }
  } policy;
  EngineHarness h;
  h.engine.set_policy(&policy);
  Connection& c = h.connect();
  auto acks = join_by_address(h, c, kAddress);
  REQUIRE(acks.size() == 1);
  CHECK(parse_frame(acks[0]).event == "pusher_internal:subscription_succeeded");
  Connection& forged = h.connect();
  drain(forged);
  h.send(forged, subscribe_frame(kAddress, channel_auth(forged.app(), forged.socket_id(), kName)));  // the other spelling
  CHECK(policy.asked == std::vector<std::pair<std::string, bool>>{{kName, true}, {kName, false}});
}
