// The other nodes' statistics as this node last read them from Redis (worker 0, once a second:
// cluster/node_stats_exchange.h), for any worker's cluster-wide answers (http/cluster_stats.h).
// A node read no more for ClusterBus::kNodeStatsTtlMs (it stopped, or Redis is unreachable) is
// left out. Thread-safe: one lock, taken once a second by worker 0 and once per answer.
#pragma once
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "core/cluster_bus.h"

namespace raptor::metrics {

class NodeStatsBoard {
 public:
  static NodeStatsBoard& instance();

  // Every other node's fields as read at `now_ms` (ms, monotonic); replaces what was there.
  void update(const ClusterBus::NodeStats& nodes, int64_t now_ms);
  // The field `name` of each other node read within the TTL before `now_ms`: node id, value.
  std::vector<std::pair<std::string, std::string>> field(const std::string& name, int64_t now_ms) const;

 private:
  mutable std::mutex mutex_;
  ClusterBus::NodeStats nodes_;
  int64_t read_at_ms_ = 0;
};

}  // namespace raptor::metrics
