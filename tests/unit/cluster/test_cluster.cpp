// The cluster's plain-C++ parts (its settings are in test_config.cpp): the messages and Redis
// channel names nodes exchange, the globs that stand for wildcard patterns, and what the engine
// tells its ClusterBus (interest in channels, patterns and users, publishes) and does with what
// comes back.
#include <algorithm>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "cluster/cluster_message.h"
#include "cluster/departure.h"
#include "protocol/channel_pattern.h"
#include "protocol/messages.h"
#include "support.h"

using namespace raptor;
using namespace raptor::test;

// ------------------------------------------------------------------ messages

TEST_CASE("cluster messages: Redis channel names and the message format round trip", "[cluster]") {
  CHECK(cluster::channel_key("raptor:", "app-1", "private-chat") == "raptor:ch:app-1:private-chat");
  CHECK(cluster::user_key("p:", "app-1", "ann") == "p:user:app-1:ann");
  CHECK(cluster::node_key("raptor:", "web-1") == "raptor:node:web-1");

  for (auto kind : {Delivery::Kind::ChannelEvent, Delivery::Kind::UserEvent}) {
    std::string text = "{\"event\":\"e\",\"channel\":\"c\",\"data\":\"line1\\nline2\"}\nraw newline";
    std::string encoded = cluster::encode(kind, "node-a", "123.456", text);
    auto m = cluster::decode(encoded);  // views into `encoded`
    REQUIRE(m);
    CHECK(m->kind == kind);
    CHECK(m->origin == "node-a");
    CHECK(m->except_socket_id == "123.456");
    CHECK(m->text == text);
  }
  std::string terminate = cluster::encode(Delivery::Kind::TerminateUser, "node-b", "", "");
  auto t = cluster::decode(terminate);
  REQUIRE(t);
  CHECK(t->kind == Delivery::Kind::TerminateUser);
  CHECK(t->except_socket_id.empty());
  CHECK(t->text.empty());
}

TEST_CASE("cluster messages: anything else is not a message", "[cluster]") {
  for (const char* bad : {"", "X", "Enode", "E\n\n{}", "Enode\n", "Enode\n1.2\n", "Qnode\n\n{}"}) {
    INFO(bad);
    CHECK_FALSE(cluster::decode(bad));
  }
}

TEST_CASE("cluster messages: a member event carries its number, and is refused without one", "[cluster]") {
  CHECK(cluster::presence_key("raptor:", "app-1", "presence-room") == "raptor:presence:app-1:presence-room");
  std::string frame = R"({"event":"pusher_internal:member_added","channel":"presence-room","data":"{}"})";
  std::string encoded = cluster::member_message_head("node-a", "1.2") + "42\n" + frame;  // as the script appends
  auto m = cluster::decode(encoded);
  REQUIRE(m);
  CHECK(m->kind == Delivery::Kind::ChannelEvent);
  CHECK(m->origin == "node-a");
  CHECK(m->except_socket_id == "1.2");
  CHECK(m->version == 42);
  CHECK(m->text == frame);
  CHECK(cluster::decode(cluster::encode(Delivery::Kind::ChannelEvent, "n", "", frame))->version == 0);
  for (const char* bad : {"Mnode\n\n\n{}", "Mnode\n\n0\n{}", "Mnode\n\nx1\n{}", "Mnode\n\n7\n", "Mnode\n\n7",
                          "Mnode\n\n123456789012345678901\n{}"}) {
    INFO(bad);
    CHECK_FALSE(cluster::decode(bad));
  }
}

// ------------------------------------------------------------------ wildcard patterns

namespace {

// Redis's glob matching (stringmatchlen) for what pattern_glob writes: `*`, `?` and `\` escapes.
bool redis_glob_matches(std::string_view glob, std::string_view text) {
  if (glob.empty()) return text.empty();
  if (glob[0] == '*') {
    for (size_t skip = 0; skip <= text.size(); ++skip)
      if (redis_glob_matches(glob.substr(1), text.substr(skip))) return true;
    return false;
  }
  if (text.empty()) return false;
  if (glob[0] == '?') return redis_glob_matches(glob.substr(1), text.substr(1));
  if (glob[0] == '\\' && glob.size() > 1) glob.remove_prefix(1);
  return glob[0] == text[0] && redis_glob_matches(glob.substr(1), text.substr(1));
}

}  // namespace

TEST_CASE("cluster patterns: a wildcard pattern's glob, with the prefix and app id escaped", "[cluster][wildcard]") {
  CHECK(cluster::pattern_glob("raptor:", "app-1", "galleries.*.comments") == "raptor:ch:app-1:galleries.?*.comments");
  CHECK(cluster::pattern_glob("raptor:", "app-1", "galleries.**") == "raptor:ch:app-1:galleries.?**");
  CHECK(cluster::pattern_glob("raptor:", "app-1", "private-*") == "raptor:ch:app-1:private-?*");
  CHECK(cluster::pattern_glob("raptor:", "app-1", "private-users.*.**") == "raptor:ch:app-1:private-users.?*.?**");
  CHECK(cluster::pattern_glob("raptor:", "1", "*") == "raptor:ch:1:?*");
  // A prefix and app id may hold what a glob treats specially: matched literally.
  std::string glob = cluster::pattern_glob("a*[b]?\\", "id?*", "x.*");
  CHECK(glob == "a\\*\\[b\\]\\?\\\\ch:id\\?\\*:x.?*");
  CHECK(redis_glob_matches(glob, cluster::channel_key("a*[b]?\\", "id?*", "x.y")));
  CHECK_FALSE(redis_glob_matches(glob, cluster::channel_key("a-other[b]?\\", "id?*", "x.y")));
  CHECK_FALSE(redis_glob_matches(glob, cluster::channel_key("a*[b]?\\", "id-2", "x.y")));
  // Distinct patterns, distinct globs: one PSUBSCRIBE, so one pmessage, per pattern.
  CHECK(cluster::pattern_glob("p:", "a", "x.*") != cluster::pattern_glob("p:", "a", "x.**"));
}

TEST_CASE("cluster patterns: the glob matches every channel its pattern matches, and the receiver filters the rest",
          "[cluster][wildcard]") {
  std::mt19937 rng(11);
  const char* words[] = {"a", "b", "galleries", "1"};
  const char* prefixes[] = {"", "", "private-"};
  auto random_name = [&](bool pattern) {
    std::string name = prefixes[rng() % 3];
    int n = 1 + int(rng() % 4);
    for (int i = 0; i < n; ++i) {
      unsigned r = rng() % 10;
      name += i ? "." : "";
      name += pattern && r < 3 ? "*" : pattern && r == 3 && i == n - 1 ? "**" : words[rng() % 4];
    }
    return name;
  };
  size_t over_matched = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string pattern = random_name(true), channel = random_name(false);
    if (!is_wildcard_pattern(pattern)) continue;
    std::string key = cluster::channel_key("raptor:", "app", channel);
    bool glob = redis_glob_matches(cluster::pattern_glob("raptor:", "app", pattern), key);
    INFO(pattern << " / " << channel);
    if (pattern_matches(pattern, channel)) CHECK(glob);
    over_matched += glob && !pattern_matches(pattern, channel);
    CHECK(cluster::channel_of_key("raptor:", "app", key) == channel);
  }
  CHECK(over_matched > 0);  // which is why the receiver checks with pattern_matches
}

TEST_CASE("cluster patterns: a Redis channel name gives its channel only when it is one of the app's",
          "[cluster][wildcard]") {
  CHECK(cluster::channel_of_key("raptor:", "1", "raptor:ch:1:galleries.5") == "galleries.5");
  CHECK(cluster::channel_of_key("raptor:", "1", "raptor:ch:1:private-a.b") == "private-a.b");
  // The glob of app 1 (raptor:ch:1:?*) also matches these:
  CHECK_FALSE(cluster::channel_of_key("raptor:", "1", "raptor:ch:1:x:news"));  // app "1:x"
  CHECK_FALSE(cluster::channel_of_key("raptor:", "1", "raptor:ch:12:news"));  // app "12"
  CHECK_FALSE(cluster::channel_of_key("raptor:", "1", "raptor:user:1:ann"));
  CHECK_FALSE(cluster::channel_of_key("raptor:", "1", "raptor:ch:1:"));
  CHECK_FALSE(cluster::channel_of_key("raptor:", "1", "other:ch:1:news"));
  CHECK_FALSE(cluster::channel_of_key("raptor:", "1", "raptor:ch:1:bad channel"));
}

// ------------------------------------------------------------------ the engine and its bus

namespace {

// Records what the engine asks of the cluster.
struct RecordingBus : ClusterBus {
  std::vector<std::string> calls;
  void watch_channel(const App&, const std::string& channel) override { calls.push_back("watch " + channel); }
  void unwatch_channel(const App&, const std::string& channel) override { calls.push_back("unwatch " + channel); }
  void watch_user(const App&, const std::string& user) override { calls.push_back("watch user " + user); }
  void unwatch_user(const App&, const std::string& user) override { calls.push_back("unwatch user " + user); }
  void watch_pattern(const App&, const std::string& p) override { calls.push_back("watch pattern " + p); }
  void unwatch_pattern(const App&, const std::string& p) override { calls.push_back("unwatch pattern " + p); }
  void publish(Delivery::Kind kind, const App&, std::string_view target, std::string_view text,
               std::string_view except) override {
    calls.push_back("publish " + std::to_string(int(kind)) + " " + std::string(target) + " except=" +
                    std::string(except) + (text.empty() ? "" : " " + parse_frame(std::string(text)).event));
  }
};

// An engine harness whose engine has a RecordingBus, and two connections.
struct ClusterHarness : EngineHarness {
  RecordingBus bus;
  Connection& a;
  Connection& b;
  ClusterHarness() : a(connect()), b(connect()) { engine.set_cluster(&bus); }
  ~ClusterHarness() { engine.set_cluster(nullptr); }
};

}  // namespace

TEST_CASE("the engine watches a channel from its first local subscriber to its last", "[cluster][engine]") {
  ClusterHarness h;
  RecordingBus& bus = h.bus;
  Connection &a = h.a, &b = h.b;
  h.join_ok(a, "news");
  h.join_ok(b, "news");
  CHECK(bus.calls == std::vector<std::string>{"watch news"});
  h.send(a, unsubscribe_frame("news"));
  CHECK(bus.calls.size() == 1);
  h.engine.on_closed(&b);
  CHECK(bus.calls == std::vector<std::string>{"watch news", "unwatch news"});
}

// A bus whose SUBSCRIBE / PSUBSCRIBE confirmations wait until the test gives them.
struct SubscribingBus : RecordingBus {
  std::vector<std::string> asked;
  std::vector<std::function<void()>> waiting;
  bool when_subscribed(const App&, const std::string& target, std::function<void()> done) override {
    asked.push_back(target);
    waiting.push_back(std::move(done));
    return true;
  }
};

TEST_CASE("subscription_succeeded waits until Redis confirmed the worker's SUBSCRIBE, events held meanwhile",
          "[cluster][engine]") {
  EngineHarness h;
  SubscribingBus bus;
  h.engine.set_cluster(&bus);
  Connection& a = h.connect();
  CHECK(h.join(a, "news").empty());
  std::string frame = R"({"event":"e","channel":"news","data":"{}"})";
  h.engine.deliver_from_cluster(Delivery::Kind::ChannelEvent, h.app(), "news", frame, "");
  CHECK(drain(a).empty());
  REQUIRE(bus.waiting.size() == 1);
  bus.waiting[0]();
  auto frames = drain(a);
  REQUIRE(frames.size() == 2);
  CHECK(parse_frame(frames[0]).event == "pusher_internal:subscription_succeeded");
  CHECK(frames[1] == frame);
  h.engine.set_cluster(nullptr);
}

TEST_CASE("a pattern's subscription_succeeded waits until Redis confirmed the worker's PSUBSCRIBE, events held meanwhile",
          "[cluster][engine][wildcard]") {
  EngineHarness h;
  SubscribingBus bus;
  h.engine.set_cluster(&bus);
  Connection& a = h.connect();
  CHECK(h.join(a, "news.*").empty());
  std::string frame = R"({"event":"e","channel":"news.1","data":"{}"})";
  h.engine.deliver_from_cluster_to_pattern(h.app(), "news.1", "news.*", frame, "");
  CHECK(drain(a).empty());
  REQUIRE(bus.waiting.size() == 1);
  CHECK(bus.asked == std::vector<std::string>{"news.*"});
  bus.waiting[0]();
  auto frames = drain(a);
  REQUIRE(frames.size() == 2);
  CHECK(parse_frame(frames[0]).event == "pusher_internal:subscription_succeeded");
  CHECK(parse_frame(frames[0]).channel == "news.*");
  auto event = parse_frame(frames[1]);
  CHECK(event.channel == "news.*");
  CHECK(string_of(event.root.get(), "concrete_channel") == "news.1");
  h.engine.set_cluster(nullptr);
}

TEST_CASE("the engine publishes API events, client events and user events to the cluster", "[cluster][engine]") {
  ClusterHarness h;
  RecordingBus& bus = h.bus;
  Connection& c = h.a;
  h.join_ok(c, "private-chat");
  bus.calls.clear();
  h.engine.publish(h.app(), "private-chat", "created", "{}", "1.2");
  h.send(c, client_event_frame("client-typing", "private-chat", "{}"));
  h.engine.publish(h.app(), "#server-to-user-ann", "note", "{}", "");
  h.engine.terminate_user(h.app(), "ann");
  CHECK(bus.calls == std::vector<std::string>{
                         "publish 0 private-chat except=1.2 created",
                         "publish 0 private-chat except=" + c.socket_id() + " client-typing",
                         "publish 1 ann except= note",
                         "publish 3 ann except=",
                     });
}

TEST_CASE("events from the cluster reach local subscribers, except the socket named", "[cluster][engine]") {
  ClusterHarness h;
  RecordingBus& bus = h.bus;
  Connection &a = h.a, &b = h.b;
  h.join_ok(a, "news");
  h.join_ok(b, "news");
  std::string frame = R"({"event":"e","channel":"news","data":"{}"})";
  h.engine.deliver_from_cluster(Delivery::Kind::ChannelEvent, h.app(), "news", frame, b.socket_id());
  CHECK(drain(a) == std::vector<std::string>{frame});
  CHECK(drain(b).empty());
  size_t published = bus.calls.size();
  h.engine.deliver_from_cluster(Delivery::Kind::ChannelEvent, h.app(), "news", frame, "");
  CHECK(bus.calls.size() == published);  // never sent back to the cluster
}

TEST_CASE("the engine watches a user from the first local sign-in to the last", "[cluster][engine]") {
  ClusterHarness h;
  RecordingBus& bus = h.bus;
  Connection &a = h.a, &b = h.b;
  h.sign_in(a, "ann");
  h.sign_in(b, "ann");
  CHECK(bus.calls == std::vector<std::string>{"watch user ann"});
  std::string frame = R"({"event":"note","channel":"#server-to-user-ann","data":"{}"})";
  h.engine.deliver_from_cluster(Delivery::Kind::UserEvent, h.app(), "ann", frame, "");
  CHECK(drain(a) == std::vector<std::string>{frame});
  h.engine.on_closed(&a);
  CHECK(bus.calls.size() == 1);
  h.engine.deliver_from_cluster(Delivery::Kind::TerminateUser, h.app(), "ann", "", "");
  CHECK(b.closing());
  h.engine.on_closed(&b);
  CHECK(bus.calls.back() == "unwatch user ann");
}

// ------------------------------------------------------------------ occupancy and departures

TEST_CASE("cluster occupancy keys and departures as Redis holds them", "[cluster]") {
  CHECK(cluster::occupancy_key("raptor:", "app-1", "news") == "raptor:occupancy:app-1:news");
  CHECK(cluster::channels_key("raptor:", "app-1") == "raptor:channels:app-1");
  CHECK(cluster::held_key("raptor:", "web-1") == "raptor:node:web-1:held");
  CHECK(cluster::departures_key("p:") == "p:departures");

  std::string vacated = cluster::vacated_member("app-1", "private-news");
  CHECK(vacated == "v\napp-1\nprivate-news");
  auto v = cluster::parse_departure(vacated);
  REQUIRE(v);
  CHECK(v->type == WebhookType::ChannelVacated);
  CHECK(v->app_id == "app-1");
  CHECK(v->channel == "private-news");
  CHECK(v->user_id.empty());

  std::string removed = cluster::member_removed_member("app-1", "presence-room", "ann\nwith a newline");
  CHECK(removed == "m\napp-1\npresence-room\nann\nwith a newline");
  auto m = cluster::parse_departure(removed);
  REQUIRE(m);
  CHECK(m->type == WebhookType::MemberRemoved);
  CHECK(m->app_id == "app-1");
  CHECK(m->channel == "presence-room");
  CHECK(m->user_id == "ann\nwith a newline");  // a user id is last and taken whole
}

TEST_CASE("cluster departures: what is not one is refused", "[cluster]") {
  for (const std::string& bad : std::vector<std::string>{"", "v", "v\n", "x\napp\nnews", "vapp\nnews", "v\n\nnews", "v\napp\n",
                          "v\napp\nbad channel", "v\napp", "m\napp\npresence-room", "m\napp\npresence-room\n",
                          "m\napp\nbad channel\nann", std::string("v\napp\nnews\0", 11)}) {
    INFO(bad);
    CHECK_FALSE(cluster::parse_departure(bad));
  }
}

// ------------------------------------------------------------------ presence decided in Redis

namespace {

// A bus whose Redis is up: records the presence changes and lets the test answer them.
struct PresenceBus : RecordingBus {
  struct Change {
    std::string user_id;
    int delta;
    std::string member_event;  // the event name
    std::string except;
    uint64_t lease;
    bool decides_webhooks;
    PresenceDone done;
  };
  std::vector<Change> changes;
  std::vector<std::string> occupancy;  // "channel delta"
  bool presence_ready() const override { return true; }
  void occupancy_change(const App&, const std::string& channel, int delta) override {
    occupancy.push_back(channel + " " + std::to_string(delta));
  }
  bool new_lease = false;  // Redis holds none of this worker's occupancy under the current lease
  bool recount_occupancy() override { return std::exchange(new_lease, false); }
  void presence_change(const App&, const std::string&, const std::string& user_id, int delta, std::string_view,
                       std::string_view member_event, std::string_view except, uint64_t lease,
                       bool decides_webhooks, PresenceDone done) override {
    changes.push_back({user_id, delta, member_event.empty() ? "" : parse_frame(std::string(member_event)).event,
                       std::string(except), lease, decides_webhooks, std::move(done)});
  }
};

struct PresenceHarness : EngineHarness {
  PresenceBus bus;
  PresenceHarness() { engine.set_cluster(&bus); }
  ~PresenceHarness() { engine.set_cluster(nullptr); }
  // Two connections joining presence-room, as ann and as bob; Redis has not answered yet.
  std::pair<Connection*, Connection*> ann_and_bob() {
    Connection& a = connect();
    Connection& b = connect();
    join(a, "presence-room", channel_data("ann"));
    join(b, "presence-room", channel_data("bob"));
    return {&a, &b};
  }
  // Two connections subscribed to news, one by its name and one by its address.
  std::pair<Connection*, Connection*> both_on_news() {
    Connection& a = connect();
    Connection& b = connect();
    join_ok(a, "news");
    join_ok(b, "/channels/public/news");
    return {&a, &b};
  }
  void member_event(const std::string& frame, uint64_t version) {
    engine.deliver_from_cluster(Delivery::Kind::ChannelEvent, app(), "presence-room", frame, "", version);
  }
};

constexpr uint64_t kLease = 1764000000000001;  // the node's lease in Redis

ClusterBus::PresenceAnswer roster(uint64_t version, std::vector<std::pair<std::string, std::string>> members,
                                  uint64_t lease = kLease) {
  ClusterBus::PresenceAnswer a;
  a.version = version;
  a.members = std::move(members);
  a.lease = lease;
  return a;
}

const std::string kAddedBob =
    R"({"event":"pusher_internal:member_added","channel":"presence-room","data":"{\"user_id\":\"bob\",\"user_info\":{}}"})";
const std::string kAddedCid =
    R"({"event":"pusher_internal:member_added","channel":"presence-room","data":"{\"user_id\":\"cid\",\"user_info\":{}}"})";

}  // namespace

TEST_CASE("a presence subscription in a cluster waits for Redis's roster, holding back what arrives meanwhile",
          "[cluster][engine]") {
  PresenceHarness h;
  Connection& a = h.connect();
  CHECK(h.join(a, "presence-room", channel_data("ann")).empty());  // nothing before Redis answers
  REQUIRE(h.bus.changes.size() == 1);
  CHECK(h.bus.changes[0].user_id == "ann");
  CHECK(h.bus.changes[0].delta == 1);
  CHECK(h.bus.changes[0].member_event == "pusher_internal:member_added");
  CHECK(h.bus.changes[0].except == a.socket_id());

  std::string event = R"({"event":"e","channel":"presence-room","data":"{}"})";
  h.engine.deliver_from_cluster(Delivery::Kind::ChannelEvent, h.app(), "presence-room", event, "");
  h.member_event(kAddedBob, 5);  // already in the roster below
  h.member_event(kAddedCid, 6);  // newer than it
  CHECK(drain(a).empty());

  auto answer = roster(5, {{"ann", "{}"}, {"bob", "{}"}});
  h.bus.changes[0].done(&answer);
  auto frames = drain(a);
  REQUIRE(frames.size() == 3);
  auto ok = parse_frame(frames[0]);
  CHECK(ok.event == "pusher_internal:subscription_succeeded");
  CHECK(frames[0].find(R"(\"count\":2)") != std::string::npos);  // the cluster's roster
  CHECK(frames[0].find(R"(\"bob\")") != std::string::npos);
  CHECK(frames[1] == event);
  CHECK(frames[2] == kAddedCid);

  h.member_event(kAddedCid, 6);  // a number already seen
  const std::string removed_bob = messages::member_removed("presence-room", "bob");
  h.member_event(removed_bob, 7);
  CHECK(drain(a) == std::vector<std::string>{removed_bob});

  h.send(a, unsubscribe_frame("presence-room"));
  REQUIRE(h.bus.changes.size() == 2);
  CHECK(h.bus.changes[1].delta == -1);
  CHECK(h.bus.changes[1].member_event == "pusher_internal:member_removed");
  CHECK_FALSE(h.bus.changes[1].done);
}

TEST_CASE("a member re-added by Redis after her node was taken for dead is news to no subscriber of that node",
          "[cluster][engine][lease]") {
  PresenceHarness h;
  auto [ap, bp] = h.ann_and_bob();
  Connection &a = *ap, &b = *bp;
  auto both = roster(2, {{"ann", "{}"}, {"bob", "{}"}});
  h.bus.changes[0].done(&both);
  h.bus.changes[1].done(&both);
  const std::string added_ann = messages::member_added("presence-room", "ann", "{}");
  const std::string removed_bob = messages::member_removed("presence-room", "bob");
  // Their joins as Redis published them, each but to its own connection.
  h.engine.deliver_from_cluster(Delivery::Kind::ChannelEvent, h.app(), "presence-room", added_ann, a.socket_id(), 1);
  h.engine.deliver_from_cluster(Delivery::Kind::ChannelEvent, h.app(), "presence-room", kAddedBob, b.socket_id(), 2);
  drain(a);
  drain(b);

  // Cut off from Redis, the node heard nothing of its members' removal; healed, it re-asserts
  // them and Redis re-adds each, to every node.
  h.member_event(added_ann, 5);
  h.member_event(kAddedBob, 6);
  CHECK(drain(a).empty());  // of herself, and of bob whom she sees
  CHECK(drain(b).empty());

  // A node taken for dead while still connected heard the removals: then the return is news,
  // except to the member herself, who hears neither.
  h.member_event(removed_bob, 7);
  h.member_event(kAddedBob, 8);
  CHECK(drain(a) == std::vector<std::string>{removed_bob, kAddedBob});
  CHECK(drain(b).empty());
}

TEST_CASE("a presence subscription in a cluster: Redis silent, the subscriber gone, a repeated subscribe",
          "[cluster][engine]") {
  PresenceHarness h;
  auto [ap, bp] = h.ann_and_bob();
  Connection &a = *ap, &b = *bp;
  REQUIRE(h.bus.changes.size() == 2);

  // No answer (Redis dropped): this node's roster.
  h.bus.changes[0].done(nullptr);
  auto frames = drain(a);
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].find(R"(\"count\":2)") != std::string::npos);

  // Closed before the answer: its leave went to Redis after its join, and the answer is dropped.
  auto late = std::move(h.bus.changes[1].done);
  h.engine.on_closed(&b);
  REQUIRE(h.bus.changes.size() == 3);
  CHECK(h.bus.changes[2].delta == -1);
  auto answer = roster(1, {{"bob", "{}"}});
  late(&answer);

  // Subscribing again asks Redis for the roster only, and answers once it comes.
  h.join(a, "presence-room", channel_data("ann"));
  REQUIRE(h.bus.changes.size() == 4);
  CHECK(h.bus.changes[3].delta == 0);
  CHECK(drain(a).empty());
  auto again = roster(3, {{"ann", "{}"}});
  h.bus.changes[3].done(&again);
  frames = drain(a);
  REQUIRE(frames.size() == 1);
  CHECK(parse_frame(frames[0]).event == "pusher_internal:subscription_succeeded");
}

TEST_CASE("the engine counts each concrete subscription in the cluster and no pattern", "[cluster][engine]") {
  PresenceHarness h;
  auto [ap, bp] = h.both_on_news();
  Connection &a = *ap, &b = *bp;
  h.join_ok(a, "news.*");
  h.join_ok(a, "news");  // again: nothing changes
  h.join(b, "presence-room", channel_data("bob"));
  CHECK(h.bus.occupancy == std::vector<std::string>{"news 1", "news 1", "presence-room 1"});
  h.send(a, unsubscribe_frame("news.*"));
  h.send(a, unsubscribe_frame("news"));
  h.engine.on_closed(&b);
  std::sort(h.bus.occupancy.begin() + 4, h.bus.occupancy.end());
  CHECK(h.bus.occupancy == std::vector<std::string>{"news 1", "news 1", "presence-room 1", "news -1", "news -1",
                                                    "presence-room -1"});
}

TEST_CASE("a presence join Redis refuses because the channel is full across the cluster is refused as on one node and taken back",
          "[cluster][engine]") {
  PresenceHarness h;
  Connection& a = h.connect();
  h.join(a, "presence-room", channel_data("ann"));
  REQUIRE(h.bus.changes.size() == 1);
  ClusterBus::PresenceAnswer full;
  full.refused = true;
  h.bus.changes[0].done(&full);
  auto frames = drain(a);  // as on one node: pusher:error 4305, then the channel's subscription_error
  REQUIRE(frames.size() == 2);
  CHECK(parse_frame(frames[0]).event == "pusher:error");
  CHECK(frames[0].find("4305") != std::string::npos);
  CHECK(frames[0].find("Presence channel is full") != std::string::npos);
  CHECK(parse_frame(frames[1]).event == "pusher:subscription_error");
  CHECK_FALSE(a.subscribed("presence-room"));
  CHECK(h.bus.changes.size() == 1);  // no leave: Redis counted nothing
  CHECK(h.bus.occupancy == std::vector<std::string>{"presence-room 1", "presence-room -1"});
  CHECK(h.engine.directory().snapshot(h.app(), "presence-room").user_count == 0);

  h.join(a, "presence-room", channel_data("ann"));  // a new attempt asks Redis again
  REQUIRE(h.bus.changes.size() == 2);
  CHECK(h.bus.changes[1].delta == 1);
}

TEST_CASE("a presence leave names the lease its join was counted under", "[cluster][engine][lease]") {
  PresenceHarness h;
  auto [ap, bp] = h.ann_and_bob();
  Connection &a = *ap, &b = *bp;
  REQUIRE(h.bus.changes.size() == 2);
  CHECK(h.bus.changes[0].lease == ClusterBus::kNoLease);  // a new subscription: counted by any lease
  auto answer = roster(1, {{"ann", "{}"}});
  h.bus.changes[0].done(&answer);
  h.send(a, unsubscribe_frame("presence-room"));
  REQUIRE(h.bus.changes.size() == 3);
  CHECK(h.bus.changes[2].lease == kLease);
  // Its join still on its way: the leave undoes whatever that join counted.
  h.engine.on_closed(&b);
  REQUIRE(h.bus.changes.size() == 4);
  CHECK(h.bus.changes[3].user_id == "bob");
  CHECK(h.bus.changes[3].lease == ClusterBus::kAnyLease);
}

TEST_CASE("re-asserting counts every presence subscription again under its lease once at a time",
          "[cluster][engine][lease]") {
  PresenceHarness h;
  auto [ap, bp] = h.ann_and_bob();
  Connection &a = *ap, &b = *bp;
  h.join(b, "presence-other", channel_data("bob"));
  auto first = roster(1, {{"ann", "{}"}});
  h.bus.changes[0].done(&first);
  h.bus.changes[1].done(&first);
  REQUIRE(h.bus.changes.size() == 3);  // bob's second join is still on its way

  h.engine.reassert_cluster_state();
  REQUIRE(h.bus.changes.size() == 5);  // not the subscription whose join is on its way
  for (size_t i : {3, 4}) {
    CHECK(h.bus.changes[i].delta == 1);
    CHECK(h.bus.changes[i].lease == kLease);  // Redis skips it if it still holds that lease
    CHECK(h.bus.changes[i].member_event == "pusher_internal:member_added");
    CHECK(h.bus.changes[i].decides_webhooks);  // counted in Redis before: Redis lost it
  }
  CHECK(h.bus.changes[3].except.empty());  // its own connection hears it too
  CHECK(h.bus.changes[4].except.empty());
  h.engine.reassert_cluster_state();  // while those are on their way: nothing twice
  CHECK(h.bus.changes.size() == 5);

  // Redis lost the lease and made a new one: counted under it; a leave then names it.
  uint64_t renewed = kLease + 1;
  auto again = roster(2, {{"ann", "{}"}}, renewed);
  for (size_t i : {3, 4}) h.bus.changes[i].done(&again);
  h.send(a, unsubscribe_frame("presence-room"));
  REQUIRE(h.bus.changes.size() == 6);
  CHECK(h.bus.changes[5].user_id == "ann");
  CHECK(h.bus.changes[5].lease == renewed);
  drain(a);
  drain(b);
}

TEST_CASE("a presence join refused for want of a lease stays on this node until re-asserted",
          "[cluster][engine][lease]") {
  PresenceHarness h;
  auto [ap, bp] = h.ann_and_bob();
  Connection &a = *ap, &b = *bp;
  auto refused = roster(0, {}, ClusterBus::kNoLease);
  h.bus.changes[0].done(&refused);
  auto counted = roster(1, {{"bob", "{}"}});
  h.bus.changes[1].done(&counted);
  drain(a);
  drain(b);
  // Not counted in Redis: its leave is not sent there, and this node announces it itself.
  h.send(a, unsubscribe_frame("presence-room"));
  CHECK(h.bus.changes.size() == 2);
  auto frames = drain(b);
  REQUIRE(frames.size() == 1);
  CHECK(parse_frame(frames[0]).event == "pusher_internal:member_removed");

  // Refused again at a re-assert, then counted at the next one, which sends bob's again too:
  // Redis skips a subscription counted under its current lease.
  h.join(a, "presence-room", channel_data("ann"));
  h.bus.changes[2].done(&refused);
  h.engine.reassert_cluster_state();
  REQUIRE(h.bus.changes.size() == 5);
  for (size_t i : {3, 4}) {
    bool ann = h.bus.changes[i].user_id == "ann";
    CHECK(h.bus.changes[i].lease == (ann ? ClusterBus::kNoLease : kLease));
    CHECK(h.bus.changes[i].decides_webhooks == !ann);  // ann's join was announced by this node
    h.bus.changes[i].done(ann ? &refused : &counted);
  }
  h.engine.reassert_cluster_state();
  REQUIRE(h.bus.changes.size() == 7);
  for (size_t i : {5, 6}) h.bus.changes[i].done(&counted);
  h.send(a, unsubscribe_frame("presence-room"));
  REQUIRE(h.bus.changes.size() == 8);
  CHECK(h.bus.changes[7].delta == -1);
  CHECK(h.bus.changes[7].lease == kLease);
  CHECK(drain(b).empty());  // announced by Redis, not here
}

TEST_CASE("a re-assert Redis refuses because the channel filled up meanwhile is tried again at the next one",
          "[cluster][engine][lease]") {
  PresenceHarness h;
  auto [ap, bp] = h.ann_and_bob();
  auto first = roster(1, {{"ann", "{}"}, {"bob", "{}"}});
  for (size_t i : {0, 1}) h.bus.changes[i].done(&first);
  h.engine.reassert_cluster_state();
  REQUIRE(h.bus.changes.size() == 4);
  uint64_t renewed = kLease + 1;
  ClusterBus::PresenceAnswer full;
  full.refused = true;
  full.lease = renewed;
  auto counted = roster(2, {{"bob", "{}"}}, renewed);
  for (size_t i : {2, 3}) h.bus.changes[i].done(h.bus.changes[i].user_id == "ann" ? &full : &counted);
  CHECK(ap->subscribed("presence-room"));  // still this node's member
  h.engine.reassert_cluster_state();
  REQUIRE(h.bus.changes.size() == 6);
  for (size_t i : {4, 5})
    CHECK(h.bus.changes[i].lease == (h.bus.changes[i].user_id == "ann" ? ClusterBus::kNoLease : renewed));
  drain(*ap);
  drain(*bp);
}

TEST_CASE("re-asserting gives each concrete channel's count as one occupancy change only under a new lease",
          "[cluster][engine][lease]") {
  PresenceHarness h;
  auto [ap, bp] = h.both_on_news();
  Connection &a = *ap, &b = *bp;
  h.join_ok(b, "sport");
  h.join_ok(a, "news.*");  // a pattern is no channel
  h.bus.occupancy.clear();
  h.engine.reassert_cluster_state();  // the same lease: Redis has the counts
  CHECK(h.bus.occupancy.empty());
  h.bus.new_lease = true;
  h.engine.reassert_cluster_state();
  std::sort(h.bus.occupancy.begin(), h.bus.occupancy.end());
  CHECK(h.bus.occupancy == std::vector<std::string>{"news 2", "sport 1"});
  h.engine.reassert_cluster_state();  // once per lease
  CHECK(h.bus.occupancy.size() == 2);
  drain(a);
  drain(b);
}

TEST_CASE("the engine watches a pattern from its first local subscriber to its last", "[cluster][engine][wildcard]") {
  ClusterHarness h;
  RecordingBus& bus = h.bus;
  Connection &a = h.a, &b = h.b;
  h.join_ok(a, "galleries.*");
  h.join_ok(b, "/channels/public/galleries/*");  // the same pattern, by address
  h.join_ok(b, "galleries.**");
  CHECK(bus.calls == std::vector<std::string>{"watch pattern galleries.*", "watch pattern galleries.**"});
  h.send(a, unsubscribe_frame("galleries.*"));
  CHECK(bus.calls.size() == 2);
  h.engine.on_closed(&b);  // leaves its subscriptions in no particular order
  std::sort(bus.calls.begin() + 2, bus.calls.end());
  CHECK(bus.calls == std::vector<std::string>{"watch pattern galleries.*", "watch pattern galleries.**",
                                              "unwatch pattern galleries.*", "unwatch pattern galleries.**"});
}

TEST_CASE("an event from the cluster reaches a pattern's subscribers through the pattern only, once each",
          "[cluster][engine][wildcard]") {
  ClusterHarness h;
  RecordingBus& bus = h.bus;
  Connection &a = h.a, &b = h.b;
  Connection& excluded = h.connect();
  h.join_ok(a, "galleries.5");  // concrete and overlapping patterns on one connection
  h.join_ok(a, "galleries.*");
  h.join_ok(a, "galleries.**");
  h.join_ok(b, "/channels/public/galleries/*");
  h.join_ok(excluded, "galleries.*");
  bus.calls.clear();
  std::string frame = R"({"event":"e","channel":"galleries.5","data":"{}"})";
  // What Redis hands this worker for one PUBLISH: the channel's message, and a pmessage per pattern.
  h.engine.deliver_from_cluster(Delivery::Kind::ChannelEvent, h.app(), "galleries.5", frame, excluded.socket_id());
  CHECK(drain(a) == std::vector<std::string>{frame});
  CHECK(drain(b).empty());
  h.engine.deliver_from_cluster_to_pattern(h.app(), "galleries.5", "galleries.*", frame, excluded.socket_id());
  CHECK(drain(a) == std::vector<std::string>{
                        R"({"event":"e","channel":"galleries.*","concrete_channel":"galleries.5","data":"{}"})"});
  CHECK(drain(b) == std::vector<std::string>{R"({"event":"e","channel":"/channels/public/galleries/*",)"
                                             R"("concrete_channel":"/channels/public/galleries/5","data":"{}"})"});
  CHECK(drain(excluded).empty());
  h.engine.deliver_from_cluster_to_pattern(h.app(), "galleries.5", "galleries.**", frame, "");
  CHECK(drain(a) == std::vector<std::string>{
                        R"({"event":"e","channel":"galleries.**","concrete_channel":"galleries.5","data":"{}"})"});
  CHECK(drain(b).empty());
  CHECK(drain(excluded).empty());
  h.engine.deliver_from_cluster_to_pattern(h.app(), "galleries.5", "news.*", frame, "");  // no subscriber here
  CHECK(drain(a).empty());
  CHECK(bus.calls.empty());  // never sent back to the cluster
}
