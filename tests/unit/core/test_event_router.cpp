// core/event_router: an event reaches this worker's recipients, the other workers that hold
// some (and only those), and the other nodes; what comes back in reaches this worker's.
#include "core/event_router.h"

#include "support.h"

using namespace raptor;
using namespace raptor::test;

namespace {

// What the router tells the cluster, as "publish kind target except=id".
struct PublishLog : QuietBus {
  std::vector<std::string> calls;
  void publish(Delivery::Kind kind, const App&, std::string_view target, std::string_view,
               std::string_view except) override {
    calls.push_back("publish " + std::to_string(int(kind)) + " " + std::string(target) + " except=" +
                    std::string(except));
  }
};

// Worker 0 of `workers`, its mailboxes recorded, its user deliveries too.
struct Routing {
  App app = reference_app();
  Hub hub;
  QueuedMailbox mailbox[2];
  RecordingTransport transport;
  ConnectionTable connections;
  Sender sender{transport, 1 << 20};
  ChannelTable channels;
  FanOut fan_out{channels, connections, sender};
  std::vector<Delivery> to_users;
  EventRouter router{hub, 0, fan_out, connections, [this](const Delivery& d) { to_users.push_back(d); }};

  explicit Routing(size_t workers = 1) : hub(workers) {
    for (size_t w = 0; w < workers; ++w) hub.attach(w, &mailbox[w]);
  }
  Connection& subscriber(const std::string& channel) {
    Connection* c = connections.add(app, nullptr, 0);
    auto& slot = channels[&app][channel];
    if (!slot) slot = std::make_unique<Channel>(channel);
    slot->add(c, false);
    c->subscriptions().add(channel, Subscription{});
    if (channel.find('*') == std::string::npos) hub.directory().subscribed(app, channel, 0);
    return *c;
  }
};

const std::string kEvent = "{\"event\":\"e\",\"channel\":\"room\",\"data\":\"{}\"}";

}  // namespace

TEST_CASE("router broadcasts to this worker's subscribers but the sender, and to the other nodes", "[event_router]") {
  Routing r;
  PublishLog bus;
  r.router.set_cluster(&bus);
  Connection& a = r.subscriber("room");
  Connection& b = r.subscriber("room");
  r.router.broadcast(r.app, "room", kEvent, &a);
  CHECK(drain(a).empty());
  CHECK(drain(b) == std::vector<std::string>{kEvent});
  CHECK(bus.calls == std::vector<std::string>{"publish 0 room except=" + a.socket_id()});
  CHECK(r.mailbox[0].queue.empty());  // alone: nothing through the mailbox
}

TEST_CASE("router posts a broadcast only to the other workers holding subscribers", "[event_router]") {
  Routing r(2);
  r.router.broadcast(r.app, "room", kEvent, nullptr);
  CHECK(r.mailbox[1].queue.empty());  // no subscriber there
  r.hub.directory().subscribed(r.app, "room", 1);
  r.router.broadcast(r.app, "room", kEvent, nullptr, "1.2");
  REQUIRE(r.mailbox[1].queue.size() == 1);
  CHECK(r.mailbox[1].queue[0].target == "room");
  CHECK(r.mailbox[1].queue[0].except_socket_id == "1.2");
  CHECK(r.mailbox[0].queue.empty());  // its own subscribers had it at once
}

TEST_CASE("router announces through every named mailbox, or at once when alone", "[event_router]") {
  Routing pair(2);
  Connection& here = pair.subscriber("room");
  pair.router.announce(0b11, EventRouter::delivery(Delivery::Kind::ChannelEvent, pair.app, "room", kEvent));
  CHECK(drain(here).empty());  // in order with the other workers: through its own mailbox
  CHECK(pair.mailbox[0].queue.size() == 1);
  CHECK(pair.mailbox[1].queue.size() == 1);
  Routing alone;
  Connection& c = alone.subscriber("room");
  alone.router.announcer(alone.app, "room", kEvent, nullptr)(7, 0b1);
  CHECK(drain(c) == std::vector<std::string>{kEvent});
}

TEST_CASE("router dispatches a user's event here, to the workers holding the user, and to the nodes",
          "[event_router]") {
  Routing r(2);
  PublishLog bus;
  r.router.set_cluster(&bus);
  r.hub.users().sign_in(r.app, "ann", 1, {}, [](const std::string&, bool, uint64_t, uint64_t) {});
  r.router.dispatch(EventRouter::delivery(Delivery::Kind::UserEvent, r.app, "ann", kEvent));
  REQUIRE(r.to_users.size() == 1);
  CHECK(r.to_users[0].target == "ann");
  CHECK(r.mailbox[1].queue.size() == 1);
  CHECK(bus.calls == std::vector<std::string>{"publish 1 ann except="});
}

TEST_CASE("router hands what comes in to channel subscribers or to the users part", "[event_router]") {
  Routing r;
  Connection& a = r.subscriber("room");
  Connection& b = r.subscriber("room*");
  r.router.deliver_from_cluster(Delivery::Kind::ChannelEvent, r.app, "room", kEvent, {}, 0);
  CHECK(drain(a).size() == 1);
  r.router.deliver_from_cluster_to_pattern(r.app, "room", "room*", kEvent, {});
  CHECK(drain(b).size() == 1);
  r.router.deliver_from_cluster(Delivery::Kind::TerminateUser, r.app, "ann", {}, {}, 0);
  r.router.deliver(EventRouter::delivery(Delivery::Kind::UserEvent, r.app, "ann", kEvent));
  REQUIRE(r.to_users.size() == 2);
  CHECK(r.to_users[0].kind == Delivery::Kind::TerminateUser);
}
