// The cluster's plain-C++ parts (its settings are in test_config.cpp): the messages and Redis
// channel names nodes exchange, and what the engine tells its ClusterBus (interest in channels
// and users, publishes) and does with what comes back.
#include <string>
#include <vector>

#include "cluster/cluster_message.h"
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

// ------------------------------------------------------------------ the engine and its bus

namespace {

// Records what the engine asks of the cluster.
struct RecordingBus : ClusterBus {
  std::vector<std::string> calls;
  void watch_channel(const App&, const std::string& channel) override { calls.push_back("watch " + channel); }
  void unwatch_channel(const App&, const std::string& channel) override { calls.push_back("unwatch " + channel); }
  void watch_user(const App&, const std::string& user) override { calls.push_back("watch user " + user); }
  void unwatch_user(const App&, const std::string& user) override { calls.push_back("unwatch user " + user); }
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
