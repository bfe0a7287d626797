// Channel state for the HTTP API and subscription counts (docs/cluster.md#http-api-answers):
// a worker's side. Every node keeps its share of each channel's subscriptions in the occupancy
// keys (the occupancy script) and its presence members in the presence keys; these scripts only
// read them, each request in one script call (one round trip, atomic, so a list and its counts
// are one moment's). They travel like every other script (script_queue.h: SCRIPT LOAD,
// EVALSHA, EVAL again after NOSCRIPT) but change nothing Redis keeps, so a drain does not wait
// for them (RedisScript::changes_state).
//
// No answer within kReadDeadlineMs (a stalled Redis) is no answer: the caller falls back to this
// node's view and a reply that comes later is dropped. hiredis 0.14 has no timeout of its own,
// so the bus's tick checks the reads on their way (expire).
// On the worker's thread only.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cluster/redis_script.h"
#include "config/cluster_settings.h"
#include "core/cluster_bus.h"

namespace raptor::cluster {

class ChannelStateReader {
 public:
  using Clock = std::function<int64_t()>;  // milliseconds, monotonic: the reads' deadlines

  ChannelStateReader(const ClusterSettings& settings, ScriptRunner& scripts, Clock clock, size_t worker);

  // Its scripts, for the bus to load.
  RedisScript& state_script() { return state_script_; }
  RedisScript& count_script() { return count_script_; }
  // See ClusterBus::read_channel_state; the command connection is up.
  void read(const App& app, const ChannelQuery& query, ClusterBus::ChannelStateDone done);
  // Answers with null the reads whose deadline has passed.
  void expire(int64_t now_ms);
  // See ClusterBus::announce_subscription_count; the worker is connected.
  void announce_count(const App& app, const std::string& channel, size_t local_count, bool to_subscribers,
                      ClusterBus::CountDone done);

 private:
  static const char* const kStateScript;
  static const char* const kCountScript;
  struct Read;  // a read on its way
  // Answers `read` with the script's reply (null: none, or refused).
  void answer(Read& read, const redisReply* reply);

  const ClusterSettings& settings_;
  ScriptRunner& scripts_;
  Clock clock_;
  size_t worker_;
  RedisScript state_script_{kStateScript, {}, /*changes_state=*/false};
  RedisScript count_script_{kCountScript, {}, /*changes_state=*/false};
  // On their way, for their deadline; each is shared with its script call's answer.
  std::vector<std::shared_ptr<Read>> reads_;
};

}  // namespace raptor::cluster
