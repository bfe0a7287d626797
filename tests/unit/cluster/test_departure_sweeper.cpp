// DepartureSweeper (src/cluster/departure_sweeper.h) against a ScriptRunner that keeps its calls:
// the due departures Redis hands over become webhooks of this node, once.
#include "cluster/departure_sweeper.h"

#include "cluster/departure.h"
#include "redis_fakes.h"
#include "support.h"

using namespace raptor;
using namespace raptor::test;

namespace {

struct SweepHarness {
  ClusterSettings settings;
  AppList apps{reference_app()};
  KeptScripts scripts;
  RecordingInbox inbox;
  bool connected = true;
  cluster::DepartureSweeper sweeper{settings, scripts, inbox, [this] { return connected; }};
  SweepHarness() { inbox.apps = &apps; }
};

}  // namespace

TEST_CASE("sweep: due departures become this node's webhooks, one sweep at a time", "[cluster][departures]") {
  SweepHarness h;
  h.sweeper.sweep();
  h.sweeper.sweep();  // one is on its way
  REQUIRE(h.scripts.calls.size() == 1);
  CHECK(h.scripts.calls[0].args.at(0) == "raptor:departures");
  Replies r;
  h.scripts.answer(0, r.array({r.text(cluster::vacated_member("3", "room")),
                               r.text(cluster::member_removed_member("3", "presence-room", "ann")),
                               r.text(cluster::vacated_member("gone-app", "room")),  // no app here: dropped
                               r.text("not a departure"), r.integer(5)}));
  CHECK(h.inbox.webhooks == std::vector<std::string>{"channel_vacated:room", "member_removed:presence-room:ann"});
  h.sweeper.sweep();  // answered: the next one goes
  CHECK(h.scripts.calls.size() == 2);
}

TEST_CASE("sweep: nothing while not connected, and a lost answer lets the next sweep go", "[cluster][departures]") {
  SweepHarness h;
  h.connected = false;
  h.sweeper.sweep();
  CHECK(h.scripts.calls.empty());
  h.connected = true;
  h.sweeper.sweep();
  h.scripts.answer(0, nullptr);
  h.sweeper.sweep();
  CHECK(h.scripts.calls.size() == 2);
  CHECK(h.inbox.webhooks.empty());
}

TEST_CASE("sweep: a full batch sweeps again at once", "[cluster][departures]") {
  SweepHarness h;
  h.sweeper.sweep();
  Replies r;
  std::vector<redisReply*> full;
  for (int i = 0; i < 500; ++i) full.push_back(r.text(cluster::vacated_member("3", "room-" + std::to_string(i))));
  h.scripts.answer(0, r.array(full));
  CHECK(h.inbox.webhooks.size() == 500);
  CHECK(h.scripts.calls.size() == 2);
}
