// A Lua script that Redis runs atomically, and the one way to run it: on a worker's command
// connection, in the order of the calls, by EVALSHA once SCRIPT LOAD has answered and by EVAL
// before that or when Redis has forgotten it (ScriptQueue, script_queue.h). Presence, occupancy,
// the departures' sweep, the channel reads and subscription counts, and NodeLease's lease and
// clean-up each hold their scripts and run them through a ScriptRunner. On the worker's thread
// only.
#pragma once
#include <functional>
#include <string>
#include <vector>

struct redisReply;

namespace raptor::cluster {

struct RedisScript {
  const char* source;
  std::string sha{};  // empty: not loaded on this connection (yet)
  // False for a script that changes nothing Redis keeps (the channel reads, the subscription
  // count, which only publishes what it read): its calls are not among the cluster changes a
  // drain waits for (ClusterBus::changes_outstanding). An HTTP read waits for its answer anyway,
  // and the drain waits for the HTTP requests.
  bool changes_state = true;
};

// What a script's caller does with its reply: null when none came (the connection dropped) or
// Redis refused the call (logged); never called once the bus is being destroyed.
using ScriptAnswered = std::function<void(const redisReply*)>;

// When a call goes, besides at once in order.
struct ScriptTiming {
  // A presence leave: kept while Redis is unreachable and sent once it is back (Redis may still
  // count the member), where any other call is answered with null at once.
  bool keep_while_unreachable = false;
  // The Redis channel whose SUBSCRIBE (on the other connection) the call waits for, while one is
  // on its way: Redis may otherwise run the script first, and publish what it decides before
  // this worker listens. Empty: none. Calls waiting for one channel go in their order.
  std::string after_subscribe_of{};
  // Of the calls waiting for that SUBSCRIBE with this flag, only the newest goes, after the
  // others: a subscription count, which a newer one makes stale.
  bool newest_only = false;
};

class ScriptRunner {
 public:
  // Runs `script` with `args` (its `keys` keys, then ARGV).
  virtual void run(RedisScript& script, int keys, std::vector<std::string> args, ScriptAnswered answered,
                   ScriptTiming timing = {}) = 0;

 protected:
  ~ScriptRunner() = default;
};

}  // namespace raptor::cluster
