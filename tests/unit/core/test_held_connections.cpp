// core/held_connections: connections opened before a cluster node is ready are held, what they
// send kept in order (up to a bound), and handed over once the node is ready.
#include "core/held_connections.h"

#include "core/cluster_bus.h"
#include "support.h"

using namespace raptor;
using namespace raptor::test;

namespace {

// A worker of a two-worker cluster node, neither connected to Redis yet.
struct Starting {
  FakeClock clock;
  HeldConnections::Clock now{[this] { return clock.now_ms; }};
  App app = reference_app();
  ClusterStatus status;
  Hub hub{1};
  RecordingTransport transport;
  ConnectionTable connections;
  Sender sender{transport, 1 << 20};
  HeldConnections held{hub, connections, sender, now};

  Starting() {
    status.workers = 2;
    hub.set_cluster_status(&status);
  }
  void become_ready() {
    status.lease_held = true;
    status.workers_connected = 2;
  }
};

}  // namespace

TEST_CASE("held connections keep what a held client sends until the node is ready", "[held_connections]") {
  Starting s;
  CHECK_FALSE(s.held.ready());
  CHECK_FALSE(s.held.waiting_for().empty());
  Connection& held = *s.connections.add(s.app, nullptr, 0);
  Connection& free = *s.connections.add(s.app, nullptr, 0);
  s.held.hold(held);
  CHECK(s.held.hold_message(held, "one"));
  CHECK(s.held.hold_message(held, "two"));
  CHECK_FALSE(s.held.hold_message(free, "three"));
  std::vector<std::string> established;
  auto establish = [&](Connection& c, const std::vector<std::string>& sent) {
    established.push_back(c.socket_id());
    established.insert(established.end(), sent.begin(), sent.end());
  };
  s.held.release(establish);
  CHECK(established.empty());  // not ready yet
  s.become_ready();
  CHECK(s.held.ready());
  CHECK(s.held.waiting_for().empty());
  s.held.release(establish);
  CHECK(established == std::vector<std::string>{held.socket_id(), "one", "two"});
  CHECK_FALSE(s.held.hold_message(held, "four"));  // established: handled as usual
}

TEST_CASE("held connections close a held client that sends too much, and skip closed ones", "[held_connections]") {
  Starting s;
  Connection& chatty = *s.connections.add(s.app, nullptr, 0);
  s.held.hold(chatty);
  while (!chatty.closing()) REQUIRE(s.held.hold_message(chatty, "{}"));
  CHECK(chatty.close_code() == 4100);
  s.become_ready();
  bool any = false;
  s.held.release([&](Connection&, const std::vector<std::string>&) { any = true; });
  CHECK_FALSE(any);
}
