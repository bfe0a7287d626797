// RedisOccupancy (src/cluster/redis_occupancy.h) against a ScriptRunner that keeps its calls: what
// a subscription change sends, what waits while Redis is unreachable, and the channel_occupied
// Redis decides.
#include "cluster/redis_occupancy.h"

#include "redis_fakes.h"
#include "support.h"

using namespace raptor;
using namespace raptor::test;

namespace {

struct OccupancyHarness {
  ClusterSettings settings;
  AppList apps{reference_app()};
  KeptScripts scripts;
  RecordingInbox inbox;
  cluster::RedisOccupancy occupancy{settings, scripts, inbox};
  OccupancyHarness() { settings.node_id = "n1"; }
  const App& app() const { return apps[0]; }
  // ARGV of call `i`: 1 node id, 2 the change, 3 the channel, 4 its departure, 5 the delay, 6 the lease.
  const std::string& argv(size_t i, size_t n) { return scripts.calls.at(i).args.at(5 + n - 1); }
};

}  // namespace

TEST_CASE("occupancy: nothing is counted before the node holds a lease, then once per lease", "[cluster][occupancy]") {
  OccupancyHarness h;
  h.occupancy.change(h.app(), "room", 1, true, 3000);
  CHECK(h.scripts.calls.empty());  // counted by the first recount instead
  CHECK_FALSE(h.occupancy.recount(false, 7));  // not connected
  CHECK(h.occupancy.recount(true, 7));
  CHECK_FALSE(h.occupancy.recount(true, 7));  // the same lease: counted already
  CHECK_FALSE(h.occupancy.recount(true, ClusterBus::kNoLease));
  h.occupancy.change(h.app(), "room", 1, true, 3000);
  REQUIRE(h.scripts.calls.size() == 1);
  CHECK(&h.occupancy.script() == h.scripts.calls[0].script);
  CHECK(h.argv(0, 1) == "n1");
  CHECK(h.argv(0, 2) == "1");
  CHECK(h.argv(0, 3) == "room");
  CHECK(h.argv(0, 5) == "3000");
  CHECK(h.argv(0, 6) == "7");
}

TEST_CASE("occupancy: Redis deciding the first subscription sends channel_occupied once", "[cluster][occupancy]") {
  OccupancyHarness h;
  REQUIRE(h.occupancy.recount(true, 7));
  h.occupancy.change(h.app(), "room", 1, true, 3000);
  h.occupancy.change(h.app(), "room", 1, true, 3000);
  Replies r;
  h.scripts.answer(0, r.integer(1));
  h.scripts.answer(1, r.integer(0));
  CHECK(h.inbox.webhooks == std::vector<std::string>{"channel_occupied:room"});
  // An app without receivers decides nothing, so nothing waits for the answer.
  h.occupancy.change(h.app(), "hall", 1, true, 0);
  CHECK_FALSE(h.scripts.calls.back().answered);
}

TEST_CASE("occupancy: changes made while Redis is unreachable are summed and sent deciding nothing",
          "[cluster][occupancy]") {
  OccupancyHarness h;
  REQUIRE(h.occupancy.recount(true, 7));
  h.occupancy.change(h.app(), "room", 1, false, 3000);
  h.occupancy.change(h.app(), "room", 1, false, 3000);
  h.occupancy.change(h.app(), "hall", 1, false, 3000);
  h.occupancy.change(h.app(), "hall", -1, false, 3000);  // a zero sum is dropped
  CHECK(h.scripts.calls.empty());
  CHECK(h.occupancy.unsent() == 1);
  h.occupancy.send_unsent();
  REQUIRE(h.scripts.calls.size() == 1);
  CHECK(h.argv(0, 2) == "2");
  CHECK(h.argv(0, 3) == "room");
  CHECK(h.argv(0, 5) == "0");  // this node reported those itself
  CHECK(h.occupancy.unsent() == 0);
}

TEST_CASE("occupancy: a recount under a new lease forgets the unsent changes, which it counts", "[cluster][occupancy]") {
  OccupancyHarness h;
  REQUIRE(h.occupancy.recount(true, 7));
  h.occupancy.change(h.app(), "room", 1, false, 3000);
  REQUIRE(h.occupancy.unsent() == 1);
  CHECK(h.occupancy.recount(true, 8));
  CHECK(h.occupancy.unsent() == 0);
}
