// RedisPresence (src/cluster/redis_presence.h) against a ScriptRunner that keeps its calls: how a
// change travels (after the channel's SUBSCRIBE, leaves kept while Redis is unreachable) and how
// the script's answer is read.
#include "cluster/redis_presence.h"

#include <optional>

#include "redis_fakes.h"
#include "support.h"

using namespace raptor;
using namespace raptor::test;

namespace {

struct PresenceHarness {
  ClusterSettings settings;
  AppList apps{reference_app()};
  KeptScripts scripts;
  RecordingInbox inbox;
  cluster::RedisPresence presence{settings, scripts, inbox, 0};
  std::vector<std::optional<ClusterBus::PresenceAnswer>> answers;  // nullopt: null

  PresenceHarness() { settings.node_id = "n1"; }
  void change(int delta, uint64_t lease = ClusterBus::kNoLease) {
    presence.change(apps[0], "presence-room", "ann", delta, "{}", "frame", "1.2", lease, 3000,
                    [this](const ClusterBus::PresenceAnswer* a) {
                      answers.push_back(a ? std::optional<ClusterBus::PresenceAnswer>(*a) : std::nullopt);
                    });
  }
};

}  // namespace

TEST_CASE("presence: a join waits for the channel's SUBSCRIBE, a leave is also kept through an outage",
          "[cluster][presence]") {
  PresenceHarness h;
  h.change(1);
  h.change(-1, ClusterBus::kAnyLease);
  REQUIRE(h.scripts.calls.size() == 2);
  CHECK(h.scripts.calls[0].timing.after_subscribe_of == "raptor:ch:3:presence-room");
  CHECK_FALSE(h.scripts.calls[0].timing.keep_while_unreachable);
  CHECK(h.scripts.calls[1].timing.keep_while_unreachable);
  CHECK(h.scripts.calls[1].args.back() == "*");  // whichever lease its join counted under
}

TEST_CASE("presence: the script's answer becomes the roster, a refusal, or null", "[cluster][presence]") {
  PresenceHarness h;
  for (int i = 0; i < 4; ++i) h.change(1);
  Replies r;
  h.scripts.answer(0, r.array({r.integer(12), r.text("7"), r.array({r.text("ann"), r.text("{}")}), r.integer(1)}));
  h.scripts.answer(1, r.array({r.integer(-1), r.text("7")}));
  h.scripts.answer(2, r.text("nonsense"));
  h.scripts.answer(3, nullptr);
  REQUIRE(h.answers.size() == 4);
  REQUIRE(h.answers[0]);
  CHECK(h.answers[0]->version == 12);
  CHECK(h.answers[0]->lease == 7);
  CHECK(h.answers[0]->members == std::vector<std::pair<std::string, std::string>>{{"ann", "{}"}});
  REQUIRE(h.answers[1]);
  CHECK(h.answers[1]->refused);
  CHECK_FALSE(h.answers[2]);
  CHECK_FALSE(h.answers[3]);
  // Only the first join was the user's first in the cluster with receivers to tell.
  CHECK(h.inbox.webhooks == std::vector<std::string>{"member_added:presence-room:ann"});
}
