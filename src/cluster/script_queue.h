// How a worker's Lua scripts travel (presence, occupancy, the departures' sweep, the channel reads
// and subscription counts, NodeLease's lease and clean-up): the ScriptRunner of redis_script.h on
// the worker's one command connection. Each runs by EVALSHA once SCRIPT LOAD (sent on every new
// command connection) has answered, and by EVAL before that or when Redis has forgotten it
// (NOSCRIPT, after SCRIPT FLUSH or a restart). Calls are pipelined: Redis runs a worker's calls in
// the order it made them, and nothing waits for an answer.
//
// Calls of scripts that change state are counted until answered: a drain waits for them
// (outstanding()), and for those waiting for a SUBSCRIBE or kept while Redis is unreachable; the
// read-only ones are not counted (RedisScript::changes_state). On the worker's thread only.
#pragma once
#include <cstddef>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "cluster/redis_connection.h"
#include "cluster/redis_script.h"

struct redisAsyncContext;

namespace raptor::cluster {

class ScriptQueue : public ScriptRunner {
 public:
  // Whether a SUBSCRIBE of a Redis channel is on its way (RedisSubscriber::awaits_subscribe).
  using AwaitsSubscribe = std::function<bool(const std::string& key)>;

  // `commands` outlives the queue's calls: its owner calls forget() before closing it.
  ScriptQueue(RedisConnection& commands, size_t worker, AwaitsSubscribe awaits_subscribe);
  ~ScriptQueue();
  ScriptQueue(const ScriptQueue&) = delete;
  ScriptQueue& operator=(const ScriptQueue&) = delete;

  // A script to SCRIPT LOAD on each new command connection; it outlives the queue.
  void add(RedisScript& script);
  void run(RedisScript& script, int keys, std::vector<std::string> args, ScriptAnswered answered,
           ScriptTiming timing = {}) override;

  // The command connection is up (again): loads every script.
  void load_all();
  // Nothing waits for a SUBSCRIBE of `key` any more (confirmed, or the connection dropped): its
  // waiting calls go, in order.
  void subscribe_settled(const std::string& key);
  // Sends the leaves kept while Redis was unreachable, in order; once the worker is connected.
  void send_unsent_leaves();
  // See ClusterBus::begin_drain: from now on a leave whose answer was lost is sent again.
  void begin_drain() { draining_ = true; }
  // State-changing calls not answered yet: sent, waiting for a SUBSCRIBE, or kept for later.
  size_t outstanding() const;
  // The bus is going: frees the calls never sent; no caller is answered from now on (not even
  // as the connection closes).
  void forget();

 private:
  struct Call;  // a script on its way
  struct Waiting {  // the calls waiting for one SUBSCRIBE
    std::vector<Call*> in_order;
    Call* newest = nullptr;  // ScriptTiming::newest_only
  };

  // Sends the call now; without a connection, keeps it for later when it is to be kept (and
  // there is room), else answers it with null.
  void send(Call* call);
  static void on_reply(redisAsyncContext* ac, void* reply, void* privdata);
  static void on_loaded(redisAsyncContext* ac, void* reply, void* privdata);

  RedisConnection& commands_;
  size_t worker_;
  AwaitsSubscribe awaits_subscribe_;
  std::vector<RedisScript*> scripts_;
  std::unordered_map<std::string, Waiting> waiting_;  // by the Redis channel they wait for
  std::vector<Call*> unsent_leaves_;                  // made while Redis was unreachable
  size_t sent_ = 0;        // calls of scripts that change state, sent and not yet answered
  bool draining_ = false;  // see begin_drain
  bool forgotten_ = false;  // see forget
};

}  // namespace raptor::cluster
