// A Lua script that Redis runs atomically, and the one way to run it: on a worker's command
// connection, in the order of the calls, by EVALSHA once SCRIPT LOAD has answered and by EVAL
// before that or when Redis has forgotten it (redis_scripts.cpp). RedisBus runs presence,
// occupancy, the departures' sweep, the HTTP API's channel reads and the subscription counts
// through it, and lends it to NodeLease for the lease and clean-up scripts. On the worker's
// thread only.
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

class ScriptRunner {
 public:
  // Runs `script` with `args` (its `keys` keys, then ARGV).
  virtual void run(RedisScript& script, int keys, std::vector<std::string> args, ScriptAnswered answered) = 0;

 protected:
  ~ScriptRunner() = default;
};

}  // namespace raptor::cluster
