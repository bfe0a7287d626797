// Each node's statistics in Redis, for cluster-wide answers (docs/metrics.md#cluster-wide):
// worker 0 of every node, once a second, writes its node's snapshot (a few JSON fields: one per
// app, one for the node) into a hash of its own that expires after kNodeStatsTtlMs, and in the
// same script reads every other live node's. The nodes are listed in a sorted set by when their
// hash expires, so a node that stops writing drops out after the TTL without a clean-up.
// On worker 0's thread (its ScriptRunner).
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "cluster/redis_script.h"
#include "config/cluster_settings.h"
#include "core/cluster_bus.h"

namespace raptor::cluster {

class NodeStatsExchange {
 public:
  NodeStatsExchange(const ClusterSettings& settings, ScriptRunner& redis);

  // The keys: the nodes sorted by when their hash expires, and one node's hash. A drained node's
  // lease release deletes both of its own (cluster/node_lease.cpp).
  static std::string nodes_key(const std::string& prefix) { return prefix + "stats:nodes"; }
  static std::string node_key(const std::string& prefix, const std::string& node_id) {
    return prefix + "node:" + node_id + ":stats";
  }

  RedisScript& script() { return script_; }
  // Writes this node's `fields` (kept kNodeStatsTtlMs) and answers with the other nodes'.
  void share(const ClusterBus::StatsFields& fields, ClusterBus::NodeStatsDone done);

 private:
  const ClusterSettings& settings_;
  ScriptRunner& redis_;
  RedisScript script_;
};

}  // namespace raptor::cluster
