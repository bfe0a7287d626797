// Statistics over every node of a cluster (docs/metrics.md#cluster-wide). Worker 0 of each node
// shares its node's figures once a second through Redis (share_node_stats, via
// cluster/node_stats_exchange.h) and keeps the other nodes' (metrics/node_stats_board.h); an
// answer adds this node's figures of now to the others' as last read, so another node's are at
// most about 2 s old, and a node gone stops counting within ClusterBus::kNodeStatsTtlMs.
//
// How figures combine: connections, messages and channel counts are summed (a channel occupied
// on two nodes counts twice; GET /apps/{id}/channels reads the cluster's exact list), peaks are
// summed (each node's own peak: at least the cluster's), a channel's messages are summed over
// the nodes that list it among their kStatsMaxTopChannels busiest, and a presence channel's
// user count is the largest any node reports.
#pragma once
#include <cstdint>
#include <string>

#include "core/engine.h"
#include "http/stats_api.h"

namespace raptor::http {

// Worker 0 of a cluster node, once a second: writes this node's figures to Redis and keeps the
// other nodes' that come back. Does nothing without a cluster.
void share_node_stats(Engine& engine, int64_t now_s);
// GET /apps/{id}/stats over every node, with a "nodes" list of each node's part.
std::string cluster_app_stats_json(const Engine& engine, const App& app, size_t top);
// Every node's summary, this node's first: [{"node","health","connections","messages_last_minute",
// "draining","redis_workers_connected","workers"}].
std::string cluster_nodes_json(const Engine& engine, int64_t now_s);

}  // namespace raptor::http
