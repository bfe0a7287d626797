// ScriptQueue (src/cluster/script_queue.h) without a Redis: its command connection is never up,
// so what is sent is answered with null at once, and what waits can be watched.
#include "cluster/script_queue.h"

#include <set>

#include "support.h"

using namespace raptor;
using namespace raptor::cluster;

namespace {

struct NoPort : EventPort {
  Watch* watch(int, Handler&) override { return nullptr; }
  void want_write(Watch*) override {}
  void unwatch(Watch*) override {}
};

struct NoOwner : RedisConnection::Owner {
  void on_up(RedisConnection&) override {}
  void on_down(RedisConnection&, const std::string&, bool) override {}
};

struct QueueHarness {
  RedisAddress address;
  NoPort port;
  NoOwner owner;
  RedisConnection commands{address, port, owner};  // never ticked: never up
  std::set<std::string> subscribing;                // Redis channels whose SUBSCRIBE is on its way
  ScriptQueue queue{commands, 0, [this](const std::string& key) { return subscribing.count(key) != 0; }};
  RedisScript changes{"return 1"};
  RedisScript reads{"return 1", {}, /*changes_state=*/false};
  std::vector<std::string> answered;  // "name:null" or "name:reply", in order

  void run(RedisScript& script, const std::string& name, ScriptTiming timing = {}) {
    queue.run(script, 0, {}, [this, name](const redisReply* r) { answered.push_back(name + (r ? ":reply" : ":null")); },
              std::move(timing));
  }
  static ScriptTiming after(std::string key, bool newest_only = false) {
    ScriptTiming t;
    t.after_subscribe_of = std::move(key);
    t.newest_only = newest_only;
    return t;
  }
};

}  // namespace

TEST_CASE("script queue: without a connection a call is answered with null at once", "[cluster][scripts]") {
  QueueHarness h;
  h.run(h.changes, "a");
  CHECK(h.answered == std::vector<std::string>{"a:null"});
  CHECK(h.queue.outstanding() == 0);
}

TEST_CASE("script queue: leaves are kept while Redis is unreachable and counted for the drain", "[cluster][scripts]") {
  QueueHarness h;
  ScriptTiming leave;
  leave.keep_while_unreachable = true;
  h.run(h.changes, "leave", leave);
  CHECK(h.answered.empty());
  CHECK(h.queue.outstanding() == 1);
  h.queue.send_unsent_leaves();  // still unreachable: kept again
  CHECK(h.queue.outstanding() == 1);
  h.queue.forget();
  CHECK(h.queue.outstanding() == 0);
  CHECK(h.answered.empty());
}

TEST_CASE("script queue: calls wait for their channel's SUBSCRIBE, in order, the newest count last",
          "[cluster][scripts]") {
  QueueHarness h;
  h.subscribing.insert("ch:room");
  h.run(h.changes, "join", QueueHarness::after("ch:room"));
  h.run(h.reads, "count-1", QueueHarness::after("ch:room", true));
  h.run(h.reads, "count-2", QueueHarness::after("ch:room", true));  // the older count is stale
  h.run(h.changes, "other", QueueHarness::after("ch:hall"));         // no SUBSCRIBE on its way
  CHECK(h.answered == std::vector<std::string>{"other:null"});
  CHECK(h.queue.outstanding() == 1);  // the join; counts change nothing Redis keeps
  h.subscribing.clear();
  // Confirmed, but a later change still queues behind the one waiting.
  h.run(h.changes, "leave", QueueHarness::after("ch:room"));
  CHECK(h.queue.outstanding() == 2);
  h.queue.subscribe_settled("ch:room");
  CHECK(h.answered == std::vector<std::string>{"other:null", "join:null", "leave:null", "count-2:null"});
  CHECK(h.queue.outstanding() == 0);
}

TEST_CASE("script queue: once forgotten, nothing waiting is answered", "[cluster][scripts]") {
  QueueHarness h;
  h.subscribing.insert("ch:room");
  h.run(h.changes, "join", QueueHarness::after("ch:room"));
  h.queue.forget();
  h.queue.subscribe_settled("ch:room");
  h.run(h.changes, "late");
  CHECK(h.answered.empty());
}
