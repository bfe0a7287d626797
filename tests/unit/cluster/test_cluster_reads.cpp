// The cluster's channel reads and counts (docs/cluster.md#http-api-answers): the channel-state
// script's reply read into a ChannelState (replies built by hand, as hiredis hands them over),
// the HTTP API's answers from the cluster's state or, without it, from the node's own view (the
// X-Raptor-Scope header saying which), and the subscription count asked of Redis rather than
// announced from this node's count.
#include <hiredis/hiredis.h>

#include <deque>
#include <optional>

#include "cluster/channel_state_reply.h"
#include "cluster/cluster_message.h"
#include "http/api.h"
#include "protocol/messages.h"
#include "redis_fakes.h"
#include "support.h"

using namespace raptor;
using namespace raptor::test;

namespace {

ChannelQuery query(ChannelQuery::Kind kind, std::string name = "room") { return {kind, std::move(name)}; }

// A bus whose reads wait until the test answers them.
struct ReadingBus : QuietBus {
  bool ready = true;
  std::vector<std::pair<ChannelQuery, ChannelStateDone>> reads;
  struct Count {
    std::string channel;
    size_t local;
    bool to_subscribers;
    CountDone done;
  };
  std::vector<Count> counts;

  bool reads_ready() const override { return ready; }
  void read_channel_state(const App&, const ChannelQuery& q, ChannelStateDone done) override {
    reads.emplace_back(q, std::move(done));
  }
  bool announce_subscription_count(const App&, const std::string& channel, size_t local, bool to_subscribers,
                                   CountDone done) override {
    if (!ready) return false;
    counts.push_back({channel, local, to_subscribers, std::move(done)});
    return true;
  }
};

struct ClusterApi : EngineHarness {
  ReadingBus bus;
  std::vector<http::Response> answers;

  ClusterApi() { engine.set_cluster(&bus); }
  // Sends a signed GET; its answers (none yet, if it waits for the bus) go to `answers`.
  void get(const std::string& path, std::vector<std::pair<std::string, std::string>> params = {}) {
    http::handle(engine, signed_request(app(), "GET", path, std::move(params)), 1353088179,
                 [this](http::Response r) { answers.push_back(std::move(r)); });
  }
  // Redis's answer (null: none) to the read waiting longest.
  void answer(const ChannelState* state) {
    REQUIRE_FALSE(bus.reads.empty());
    auto done = std::move(bus.reads.front().second);
    bus.reads.erase(bus.reads.begin());
    done(state);
  }
  std::string scope(const http::Response& r) const {
    for (const auto& [name, value] : r.headers)
      if (name == http::kScopeHeader) return value;
    return "";
  }
  bool truncated(const http::Response& r) const {
    for (const auto& [name, value] : r.headers)
      if (name == http::kTruncatedHeader) return value == "true";
    return false;
  }
};

}  // namespace

// ------------------------------------------------------------------ the script's replies

TEST_CASE("channel-state replies: one channel's counts", "[cluster-reads]") {
  Replies r;
  auto state = cluster::channel_state_of(query(ChannelQuery::Kind::Channel), *r.array({r.integer(5), r.integer(2)}));
  REQUIRE(state);
  REQUIRE(state->channels.size() == 1);
  CHECK(state->channels[0].name == "room");
  CHECK(state->channels[0].subscription_count == 5);
  CHECK(state->channels[0].user_count == 2);
}

TEST_CASE("channel-state replies: users come sorted", "[cluster-reads]") {
  Replies r;
  auto state = cluster::channel_state_of(query(ChannelQuery::Kind::Users),
                                         *r.array({r.text("zoe"), r.text("ann"), r.text("mo")}));
  REQUIRE(state);
  CHECK(state->users == std::vector<std::string>{"ann", "mo", "zoe"});
  auto none = cluster::channel_state_of(query(ChannelQuery::Kind::Users), *r.array({}));
  REQUIRE(none);
  CHECK(none->users.empty());
}

TEST_CASE("channel-state replies: a list sorted by name and its truncation flag", "[cluster-reads]") {
  Replies r;
  auto state = cluster::channel_state_of(
      query(ChannelQuery::Kind::List, ""),
      *r.array({r.integer(1), r.text("b"), r.integer(3), r.integer(0), r.text("a"), r.integer(1), r.integer(1)}));
  REQUIRE(state);
  CHECK(state->truncated);
  REQUIRE(state->channels.size() == 2);
  CHECK(state->channels[0].name == "a");
  CHECK(state->channels[0].user_count == 1);
  CHECK(state->channels[1].name == "b");
  CHECK(state->channels[1].subscription_count == 3);
  auto empty = cluster::channel_state_of(query(ChannelQuery::Kind::List, ""), *r.array({r.integer(0)}));
  REQUIRE(empty);
  CHECK_FALSE(empty->truncated);
  CHECK(empty->channels.empty());
}

TEST_CASE("channel-state replies of any other shape are no answer", "[cluster-reads]") {
  Replies r;
  using Kind = ChannelQuery::Kind;
  CHECK_FALSE(cluster::channel_state_of(query(Kind::Channel), *r.text("NOSCRIPT No matching script", REDIS_REPLY_ERROR)));
  CHECK_FALSE(cluster::channel_state_of(query(Kind::Channel), *r.integer(3)));
  CHECK_FALSE(cluster::channel_state_of(query(Kind::Channel), *r.array({r.integer(1)})));
  CHECK_FALSE(cluster::channel_state_of(query(Kind::Channel), *r.array({r.integer(-1), r.integer(0)})));
  CHECK_FALSE(cluster::channel_state_of(query(Kind::Channel), *r.array({r.text("1"), r.integer(0)})));
  CHECK_FALSE(cluster::channel_state_of(query(Kind::Users), *r.array({r.text("a"), r.integer(2)})));
  CHECK_FALSE(cluster::channel_state_of(query(Kind::List), *r.array({})));
  CHECK_FALSE(cluster::channel_state_of(query(Kind::List), *r.array({r.integer(0), r.text("a"), r.integer(1)})));
  CHECK_FALSE(cluster::channel_state_of(query(Kind::List),
                                        *r.array({r.integer(0), r.integer(1), r.integer(1), r.integer(1)})));
}

// ------------------------------------------------------------------ the HTTP API's answers

TEST_CASE("a cluster node answers the channel list once Redis has, from Redis", "[cluster-reads]") {
  ClusterApi api;
  api.get("/apps/3/channels", {{"filter_by_prefix", "presence-"}, {"info", "user_count,subscription_count"}});
  CHECK(api.answers.empty());  // waits for Redis
  REQUIRE(api.bus.reads.size() == 1);
  const ChannelQuery& q = api.bus.reads[0].first;
  CHECK(q.kind == ChannelQuery::Kind::List);
  CHECK(q.name == "presence-");
  CHECK(q.subscription_counts);
  CHECK(q.user_counts);
  ChannelState state;
  state.channels = {{"presence-a", 3, 2}, {"presence-b", 1, 1}};
  state.truncated = true;
  api.answer(&state);
  REQUIRE(api.answers.size() == 1);
  const http::Response& r = api.answers[0];
  CHECK(r.status == 200);
  CHECK(r.body ==
        "{\"channels\":{\"presence-a\":{\"user_count\":2,\"subscription_count\":3},"
        "\"presence-b\":{\"user_count\":1,\"subscription_count\":1}}}");
  CHECK(api.scope(r) == "cluster");
  CHECK(api.truncated(r));

  api.get("/apps/3/channels");
  CHECK_FALSE(api.bus.reads[0].first.subscription_counts);  // names only: no hash read per channel
  CHECK_FALSE(api.bus.reads[0].first.user_counts);
  ChannelState plain;
  plain.channels = {{"room", 0, 0}};
  api.answer(&plain);
  CHECK(api.answers[1].body == "{\"channels\":{\"room\":{}}}");
  CHECK_FALSE(api.truncated(api.answers[1]));
}

TEST_CASE("a cluster node answers one channel and its users from Redis", "[cluster-reads]") {
  ClusterApi api;
  api.get("/apps/3/channels/presence-room", {{"info", "user_count,subscription_count"}});
  ChannelState one;
  one.channels = {{"presence-room", 4, 3}};
  api.answer(&one);
  api.get("/apps/3/channels/presence-room/users");
  CHECK(api.bus.reads[0].first.kind == ChannelQuery::Kind::Users);
  ChannelState users;
  users.users = {"a", "b\"q"};
  api.answer(&users);
  api.get("/channels/presence/room");
  CHECK(api.bus.reads[0].first.name == "presence-room");
  ChannelState vacant;  // no occupancy key and no members
  api.answer(&vacant);
  REQUIRE(api.answers.size() == 3);
  CHECK(api.answers[0].body == "{\"occupied\":true,\"user_count\":3,\"subscription_count\":4}");
  CHECK(api.answers[1].body == "{\"users\":[{\"id\":\"a\"},{\"id\":\"b\\\"q\"}]}");
  CHECK(api.answers[2].body == "{\"occupied\":false,\"subscription_count\":0,\"user_count\":0}");
  for (const auto& r : api.answers) CHECK(api.scope(r) == "cluster");
}

TEST_CASE("without Redis's answer a cluster node answers from its own view and says so", "[cluster-reads]") {
  ClusterApi api;
  Connection& c = api.connect();
  api.join(c, "room");
  api.get("/apps/3/channels/room", {{"info", "subscription_count"}});
  api.answer(nullptr);  // too slow, or the connection dropped
  api.bus.ready = false;
  api.get("/apps/3/channels");  // unreachable: answered at once
  CHECK(api.bus.reads.empty());
  REQUIRE(api.answers.size() == 2);
  CHECK(api.answers[0].body == "{\"occupied\":true,\"subscription_count\":1}");
  CHECK(api.answers[1].body == "{\"channels\":{\"room\":{}}}");
  for (const auto& r : api.answers) CHECK(api.scope(r) == "node");
}

TEST_CASE("a cluster node refuses bad reads at once without asking Redis", "[cluster-reads]") {
  ClusterApi api;
  api.get("/apps/3/channels", {{"info", "user_count"}});
  api.get("/apps/3/channels/room", {{"info", "user_count"}});
  api.get("/apps/3/channels/room/users");
  api.get("/apps/3/channels/bad name");
  api.get("/channels/public/private-x");
  CHECK(api.bus.reads.empty());
  REQUIRE(api.answers.size() == 5);
  for (const auto& r : api.answers) {
    CHECK(r.status == 400);
    CHECK(r.headers.empty());
  }
}

// ------------------------------------------------------------------ subscription counts

TEST_CASE("a cluster node asks Redis to sum and announce subscription counts", "[cluster-reads]") {
  ClusterApi api;
  api.apps.front().subscription_count_events = true;
  Connection& a = api.connect();
  Connection& b = api.connect();
  auto first = api.join(a, "room");
  REQUIRE(first.size() == 1);  // subscription_succeeded; the count comes from Redis
  api.join(b, "room");
  REQUIRE(api.bus.counts.size() == 2);
  CHECK(api.bus.counts[1].channel == "room");
  CHECK(api.bus.counts[1].local == 2);
  CHECK(api.bus.counts[1].to_subscribers);
  CHECK(drain(a).empty());

  api.bus.ready = false;  // Redis unreachable: this node's count, as alone
  api.send(b, unsubscribe_frame("room"));
  auto frames = drain(a);
  REQUIRE(frames.size() == 1);
  CHECK(frames[0] == messages::subscription_count("room", 1));

  // The node's last subscriber leaves: the other nodes' subscribers still get the cluster's count.
  api.bus.ready = true;
  api.send(a, unsubscribe_frame("room"));
  REQUIRE(api.bus.counts.size() == 3);
  CHECK(api.bus.counts[2].channel == "room");
  CHECK(api.bus.counts[2].local == 0);
}

TEST_CASE("a count message from Redis is delivered by its origin too", "[cluster-reads]") {
  std::string payload = cluster::count_message_head("node-a", "room") + "12" + std::string(messages::kSubscriptionCountTail);
  auto m = cluster::decode(payload);
  REQUIRE(m);
  CHECK(m->from_redis);
  CHECK(m->origin == "node-a");
  CHECK(m->except_socket_id.empty());
  CHECK(m->text == messages::subscription_count("room", 12));
  CHECK_FALSE(cluster::decode(cluster::encode(Delivery::Kind::ChannelEvent, "node-a", "", "{}"))->from_redis);
}
