// core/fan_out: an event delivered to this worker's subscribers of a channel and of the patterns
// matching it, spelled as each subscribed, held back for a subscriber awaiting its roster.
#include "core/fan_out.h"

#include "support.h"

using namespace raptor;
using namespace raptor::test;

namespace {

struct Worker {
  App app = reference_app();
  RecordingTransport transport;
  ConnectionTable connections;
  Sender sender{transport, 1 << 20};
  ChannelTable channels;
  FanOut fan_out{channels, connections, sender};

  Connection& subscriber(const std::string& channel, bool by_address = false) {
    Connection* c = connections.add(app, nullptr, 0);
    auto& slot = channels[&app][channel];
    if (!slot) slot = std::make_unique<Channel>(channel);
    slot->add(c, by_address);
    c->subscriptions().add(channel, Subscription{"", 0, by_address});
    return *c;
  }
};

const std::string kEvent = "{\"event\":\"e\",\"channel\":\"room\",\"data\":\"{}\"}";

}  // namespace

TEST_CASE("fan-out sends one event to every subscriber of the channel but the sender", "[fan_out]") {
  Worker w;
  Connection& a = w.subscriber("room");
  Connection& b = w.subscriber("room");
  Connection& other = w.subscriber("hall");
  w.fan_out.deliver_local(w.app, "room", kEvent, nullptr, a.socket_id(), 0);
  CHECK(drain(a).empty());
  CHECK(drain(b) == std::vector<std::string>{kEvent});
  CHECK(drain(other).empty());
  w.fan_out.deliver_local(w.app, "room", kEvent, &b, {}, 0);
  CHECK(drain(a).size() == 1);
  CHECK(drain(b).empty());
}

TEST_CASE("fan-out spells the channel as each subscriber subscribed", "[fan_out]") {
  Worker w;
  Connection& by_name = w.subscriber("room");
  Connection& by_address = w.subscriber("room", true);
  w.fan_out.deliver_local(w.app, "room", kEvent, nullptr, {}, 0);
  CHECK(parse_frame(drain(by_name).at(0)).channel == "room");
  CHECK(parse_frame(drain(by_address).at(0)).channel == "/channels/public/room");
}

TEST_CASE("fan-out holds an event back for a subscriber awaiting the cluster's roster", "[fan_out]") {
  Worker w;
  Connection& waiting = w.subscriber("room");
  w.channels[&w.app]["room"]->awaiting_changed(1);
  waiting.subscriptions().find("room")->awaiting_roster = true;
  w.fan_out.deliver_local(w.app, "room", kEvent, nullptr, {}, 0);
  CHECK(drain(waiting).empty());
  REQUIRE(waiting.subscriptions().find("room")->held.size() == 1);
}

TEST_CASE("fan-out reaches the subscribers of matching patterns, naming the pattern", "[fan_out]") {
  Worker w;
  Connection& fan = w.subscriber("room*");
  Connection& sender = w.subscriber("room*");
  std::vector<std::string> patterns{"room*"};
  w.fan_out.deliver_local(w.app, "room", kEvent, &sender, {}, 0, &patterns);
  auto frames = drain(fan);
  REQUIRE(frames.size() == 1);
  auto f = parse_frame(frames[0]);
  CHECK(f.channel == "room*");
  CHECK(string_of(f.root.get(), "concrete_channel") == "room");
  CHECK(drain(sender).empty());
}
