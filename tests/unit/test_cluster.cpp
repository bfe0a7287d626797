// The cluster's plain-C++ parts (its settings are in test_config.cpp): the messages and Redis
// channel names nodes exchange, the globs that stand for wildcard patterns, and what the engine
// tells its ClusterBus (interest in channels, patterns and users, publishes) and does with what
// comes back.
#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "cluster/cluster_message.h"
#include "protocol/channel_pattern.h"
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

TEST_CASE("cluster patterns: the glob matches every channel its pattern matches; the receiver filters the rest",
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
