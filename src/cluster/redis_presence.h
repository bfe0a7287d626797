// Presence decided in Redis (docs/cluster.md#presence): a worker's side of it. One Lua script,
// run atomically by Redis, counts a user's connections per node, decides whether a join is the
// user's first in the cluster or a leave its last, and then publishes the numbered member event
// itself, so that the decision, the number and the publication cannot be split or reordered.
// The same script decides the member webhooks once for the cluster: member_added on a first
// join (unless it cancels a departure held in {prefix}departures: a rejoin within the delay),
// and a last leave holds member_removed there for the sweeper (departure.h). It also enforces
// max_presence_members across the cluster: a join of a user new to the channel is refused, with
// nothing changed, when the channel has that many members. A change counts only while the node
// holds its lease and names the lease it was counted under, so that a re-assert after Redis lost
// the node's state counts each member once (node_lease.h, docs/cluster.md#node-leases).
// On the worker's thread only.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "cluster/redis_script.h"
#include "config/cluster_settings.h"
#include "core/cluster_bus.h"
#include "core/cluster_inbox.h"

namespace raptor::cluster {

class RedisPresence {
 public:
  RedisPresence(const ClusterSettings& settings, ScriptRunner& scripts, ClusterInbox& inbox, size_t worker);

  // Its script, for the bus to load.
  RedisScript& script() { return script_; }
  // See ClusterBus::presence_change. `delay`: the departure delay with which Redis decides the
  // member webhooks (0: this change decides none). member_added, when decided, goes to the inbox.
  void change(const App& app, const std::string& channel, const std::string& user_id, int delta,
              std::string_view user_info, std::string_view member_event, std::string_view except_socket_id,
              uint64_t lease, int64_t delay, ClusterBus::PresenceDone done);

 private:
  static const char* const kScript;

  const ClusterSettings& settings_;
  ScriptRunner& scripts_;
  ClusterInbox& inbox_;
  size_t worker_;
  RedisScript script_{kScript};
};

}  // namespace raptor::cluster
