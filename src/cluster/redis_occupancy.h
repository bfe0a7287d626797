// Channel occupancy decided in Redis (docs/cluster.md#occupancy-and-webhooks): a worker's side.
// Each subscription of a concrete channel made or ended on this worker (wildcard patterns are no
// channel) is one call of a Lua script that Redis runs atomically: it adds the change to this
// node's field of {prefix}occupancy:{app}:{channel}, keeps {prefix}channels:{app} (the occupied
// channels) and {prefix}node:{node}:held (keys holding this node's contribution) in step, and
// decides the channel webhooks once for the cluster: the call that creates the key is the
// channel's first subscription anywhere (channel_occupied, unless it cancels a channel_vacated
// held in {prefix}departures: a page reload onto another node), and the one that removes it the
// last (channel_vacated, held there for the delay). The calls go pipelined on the worker's
// command connection in the order the subscriptions changed; none waits for an answer.
//
// While Redis is unreachable the changes are added up per channel and sent once the worker is
// connected again, without deciding webhooks: this node reported those itself.
//
// Each change names the node's lease under which the worker counted its subscriptions
// (node_lease.h), and Redis refuses it under any other: a new lease means the node's fields were
// taken back (the node was cleaned up as dead) or lost (Redis restarted empty). The worker then
// counts its channels again under the new lease, once (recount_occupancy), as changes from zero;
// the changes refused meanwhile are in those counts.
// On the worker's thread only.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "cluster/redis_script.h"
#include "config/cluster_settings.h"
#include "core/cluster_bus.h"
#include "core/cluster_inbox.h"

namespace raptor::cluster {

class RedisOccupancy {
 public:
  RedisOccupancy(const ClusterSettings& settings, ScriptRunner& scripts, ClusterInbox& inbox);

  // Its script, for the bus to load.
  RedisScript& script() { return script_; }
  // See ClusterBus::occupancy_change. While the worker is not `connected` the change is added up
  // for later; else it goes with the departure delay `delay` (0: deciding no webhook).
  void change(const App& app, const std::string& channel, int delta, bool connected, int64_t delay);
  // See ClusterBus::recount_occupancy; `lease`: the node's current one.
  bool recount(bool connected, uint64_t lease);
  // Sends the changes made while Redis was unreachable, deciding no webhook: this node reported those.
  void send_unsent();
  // Changes kept while Redis was unreachable (for ClusterBus::changes_outstanding).
  size_t unsent() const { return unsent_.size(); }

 private:
  static const char* const kScript;
  // Sends one change of this node (subscriptions more, or fewer when negative), deciding the
  // channel's webhooks with the departure delay `delay` (0: deciding none).
  void send(const App& app, const std::string& channel, int64_t delta, int64_t delay);

  const ClusterSettings& settings_;
  ScriptRunner& scripts_;
  ClusterInbox& inbox_;
  RedisScript script_{kScript};
  // Changes made while Redis was unreachable, added up per channel (zero sums dropped).
  std::map<std::pair<const App*, std::string>, int64_t> unsent_;
  // The node's lease under which this worker's occupancy is counted in Redis (kNoLease: not yet).
  uint64_t lease_ = ClusterBus::kNoLease;
};

}  // namespace raptor::cluster
