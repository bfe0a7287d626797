// NodeReadiness (docs/cluster.md#readiness): a node alone is ready at once; a cluster node once
// every worker is connected under the lease and the webhook stream is joined, or when the
// start-up wait is over; and the engine holds connections opened before.
#include <catch2/catch.hpp>

#include "core/cluster_bus.h"
#include "core/node_readiness.h"
#include "support.h"

using namespace raptor;
using namespace raptor::test;

TEST_CASE("readiness: a node alone is ready at once", "[readiness]") {
  NodeReadiness r;
  CHECK(r.update(nullptr, nullptr, 0));
  CHECK(r.ready());
  CHECK(NodeReadiness::waiting_for(nullptr, nullptr).empty());
}

TEST_CASE("readiness: a cluster node waits for its lease and every worker, then stays ready", "[readiness]") {
  ClusterStatus status;
  status.workers = 2;
  NodeReadiness r;
  CHECK_FALSE(r.update(&status, nullptr, 1000));
  CHECK(NodeReadiness::waiting_for(&status, nullptr).rfind("waiting for Redis: connecting", 0) == 0);
  status.lease_held = true;
  status.workers_connected = 1;
  CHECK_FALSE(r.update(&status, nullptr, 1500));
  CHECK(NodeReadiness::waiting_for(&status, nullptr) == "waiting for Redis: 1 of 2 workers connected and subscribed");
  status.workers_connected = 2;
  CHECK(r.update(&status, nullptr, 2000));
  // A later outage does not take the node out of service (the degraded mode of docs/cluster.md).
  status.workers_connected = 0;
  status.lease_held = false;
  CHECK(r.update(&status, nullptr, 3000));
  CHECK(r.ready());
}

TEST_CASE("readiness: Redis unreachable at start-up, the node serves alone after the wait", "[readiness]") {
  ClusterStatus status;
  status.workers = 1;
  NodeReadiness r;
  CHECK_FALSE(r.update(&status, nullptr, 5000));  // the wait counts from here
  CHECK_FALSE(r.update(&status, nullptr, 5000 + 10000 - 1));  // 10 s by default
  CHECK(r.update(&status, nullptr, 5000 + 10000));
}

TEST_CASE("readiness: the start-up wait is the node's setting, 0 serving alone at once", "[readiness]") {
  ClusterStatus status;
  status.workers = 1;
  status.startup_wait_s = 3;
  NodeReadiness r;
  CHECK_FALSE(r.update(&status, nullptr, 5000));
  CHECK_FALSE(r.update(&status, nullptr, 7999));
  CHECK(r.update(&status, nullptr, 8000));
  status.startup_wait_s = 0;
  NodeReadiness at_once;
  CHECK(at_once.update(&status, nullptr, 5000));
}

TEST_CASE("readiness: the engine holds a connection until the node is ready, what it sent included",
          "[readiness][engine]") {
  EngineHarness h;
  ClusterStatus status;
  status.workers = 1;
  h.hub.set_cluster_status(&status);
  Connection* c = h.engine.open(h.app(), nullptr);
  h.send(*c, subscribe_frame("news", "", std::nullopt));
  CHECK(drain(*c).empty());
  h.engine.check_readiness();
  CHECK(drain(*c).empty());
  CHECK(h.engine.waiting_for().rfind("waiting for Redis", 0) == 0);
  status.lease_held = true;
  status.workers_connected = 1;
  h.engine.check_readiness();
  auto frames = drain(*c);
  REQUIRE(frames.size() == 2);
  CHECK(parse_frame(frames[0]).event == "pusher:connection_established");
  CHECK(parse_frame(frames[1]).event == "pusher_internal:subscription_succeeded");
  CHECK(h.engine.waiting_for().empty());
  h.hub.set_cluster_status(nullptr);
}
