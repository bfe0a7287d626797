// core/cluster_presence: a presence subscriber in a cluster waits for Redis's roster, hears what
// reached it meanwhile only when newer than that roster, is taken back when Redis finds the
// channel full; leaves name the lease they were counted under; a re-assert counts again only what
// is neither counted nor on its way.
#include "core/cluster_presence.h"

#include "support.h"

using namespace raptor;
using namespace raptor::test;

namespace {

// A bus that keeps each presence change and answers when the test says.
struct PresenceBus : QuietBus {
  struct Change {
    std::string channel, user_id;
    int delta = 0;
    uint64_t lease = 0;
    bool decides_webhooks = false;
    PresenceDone done;
  };
  std::vector<Change> changes;
  std::vector<std::pair<std::string, int>> occupancy;
  bool recount = false;
  bool presence_ready() const override { return true; }
  void presence_change(const App&, const std::string& channel, const std::string& user_id, int delta,
                       std::string_view, std::string_view, std::string_view, uint64_t lease, bool decides_webhooks,
                       PresenceDone done) override {
    changes.push_back({channel, user_id, delta, lease, decides_webhooks, std::move(done)});
  }
  void occupancy_change(const App&, const std::string& channel, int delta) override {
    occupancy.emplace_back(channel, delta);
  }
  bool recount_occupancy() override { return recount; }
};

// What the part hands back to the engine, recorded.
struct RecordedSteps : SubscriptionSteps {
  std::vector<std::string> steps;
  void unsubscribe(Connection& c, const std::string& channel, bool refused_by_cluster) override {
    steps.push_back("unsubscribe " + channel + (refused_by_cluster ? " refused" : ""));
    c.subscriptions().remove(channel);
  }
  void refuse_full_presence(Connection&, std::string_view spelled) override {
    steps.push_back("refuse " + std::string(spelled));
  }
  void after_subscribe(Connection&, const std::string& channel, const std::string&, ChannelType) override {
    steps.push_back("after " + channel);
  }
};

struct OneWorker {
  App app = reference_app();
  Hub hub{1};
  RecordingTransport transport;
  ConnectionTable connections;
  ChannelTable channels;
  Sender sender{transport, 1 << 20};
  RecordedSteps steps;
  PresenceBus bus;
  ClusterPresence presence{hub, connections, channels, sender, steps};
  const std::string room = "presence-room";

  OneWorker() { presence.set_cluster(&bus); }
  // A connection subscribed to the room as `user`, in the channel table as the engine leaves it.
  Connection& member(const std::string& user) {
    Connection& c = *connections.add(app, nullptr, 0);
    Subscription sub;
    sub.user_id = user;
    sub.in_cluster = true;
    c.subscriptions().add(room, std::move(sub));
    auto& channel = channels[&app][room];
    if (!channel) channel = std::make_unique<Channel>(room);
    channel->add(&c, false);
    return c;
  }
};

ClusterBus::PresenceAnswer roster(uint64_t version, std::vector<std::pair<std::string, std::string>> members) {
  ClusterBus::PresenceAnswer answer;
  answer.version = version;
  answer.members = std::move(members);
  answer.lease = 7;
  return answer;
}

}  // namespace

TEST_CASE("cluster presence holds a join until Redis's roster, then sends only newer member events",
          "[cluster_presence]") {
  OneWorker w;
  Connection& c = w.member("ann");
  w.presence.ask_cluster_roster(c, w.room, 1, R"({"name":"Ann"})", true);
  REQUIRE(w.bus.changes.size() == 1);
  CHECK(w.bus.changes[0].delta == 1);
  CHECK(w.bus.changes[0].user_id == "ann");
  Subscription* sub = c.subscriptions().find(w.room);
  CHECK(sub->awaiting_roster);
  CHECK(sub->counting);
  CHECK(drain(c).empty());
  // Meanwhile: one member event the roster already holds (3), one after it (5), one event.
  sub->held.emplace_back(3, Frame::make("old member event"));
  sub->held.emplace_back(5, Frame::make("new member event"));
  sub->held.emplace_back(0, Frame::make("an event"));
  auto answer = roster(4, {{"ann", R"({"name":"Ann"})"}, {"bob", "{}"}});
  w.bus.changes[0].done(&answer);
  auto frames = drain(c);
  REQUIRE(frames.size() == 3);
  CHECK(frames[0].find("pusher_internal:subscription_succeeded") != std::string::npos);
  CHECK(frames[0].find("bob") != std::string::npos);  // the cluster's roster, not this node's
  CHECK(frames[1] == "new member event");
  CHECK(frames[2] == "an event");
  CHECK_FALSE(sub->awaiting_roster);
  CHECK_FALSE(sub->counting);
  CHECK(sub->cluster_lease == 7);
  CHECK(sub->roster_version == 5);
  CHECK(w.steps.steps == std::vector<std::string>{"after presence-room"});
}

TEST_CASE("cluster presence takes back a join Redis refused as full, and ignores answers for closed connections",
          "[cluster_presence]") {
  OneWorker w;
  Connection& refused = w.member("ann");
  Connection& gone = w.member("bob");
  w.presence.ask_cluster_roster(refused, w.room, 1, "{}", true);
  w.presence.ask_cluster_roster(gone, w.room, 1, "{}", true);
  REQUIRE(w.bus.changes.size() == 2);
  ClusterBus::PresenceAnswer full;
  full.refused = true;
  w.bus.changes[0].done(&full);
  CHECK(w.steps.steps == std::vector<std::string>{"unsubscribe presence-room refused", "refuse presence-room"});
  CHECK(drain(refused).empty());  // no subscription_succeeded
  w.connections.remove(gone);
  auto answer = roster(1, {{"bob", "{}"}});
  w.bus.changes[1].done(&answer);
  CHECK(w.steps.steps.size() == 2);
}

TEST_CASE("cluster presence names the lease a leave was counted under, or any lease while its join is on its way",
          "[cluster_presence]") {
  OneWorker w;
  Subscription counted;
  counted.user_id = "ann";
  counted.cluster_lease = 7;
  w.presence.leave_cluster_presence(w.app, w.room, counted);
  Subscription racing;
  racing.user_id = "bob";
  racing.cluster_lease = 7;
  racing.counting = true;
  w.presence.leave_cluster_presence(w.app, w.room, racing);
  REQUIRE(w.bus.changes.size() == 2);
  CHECK(w.bus.changes[0].delta == -1);
  CHECK(w.bus.changes[0].lease == 7);
  CHECK(w.bus.changes[1].lease == ClusterBus::kAnyLease);
}

TEST_CASE("cluster presence re-asserts only members neither counted nor on their way, and recounts occupancy once",
          "[cluster_presence]") {
  OneWorker w;
  Connection& settled = w.member("ann");
  Connection& joining = w.member("bob");
  joining.subscriptions().find(w.room)->counting = true;
  w.bus.recount = true;
  w.presence.reassert_cluster_state();
  REQUIRE(w.bus.changes.size() == 1);
  CHECK(w.bus.changes[0].user_id == "ann");
  CHECK(w.bus.changes[0].delta == 1);
  CHECK(w.bus.changes[0].decides_webhooks);  // in_cluster: Redis counted it before
  CHECK(settled.subscriptions().find(w.room)->counting);
  CHECK(w.bus.occupancy == std::vector<std::pair<std::string, int>>{{w.room, 2}});
  auto answer = roster(9, {});
  w.bus.changes[0].done(&answer);
  CHECK_FALSE(settled.subscriptions().find(w.room)->counting);
  CHECK(settled.subscriptions().find(w.room)->cluster_lease == 7);
  // Counting again now changes nothing: ann is on its way no more, but bob still is.
  w.bus.recount = false;
  w.presence.reassert_cluster_state();
  CHECK(w.bus.changes.size() == 2);
  CHECK(w.bus.occupancy.size() == 1);
}
