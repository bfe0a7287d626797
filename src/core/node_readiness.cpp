#include "core/node_readiness.h"

#include "common/log.h"
#include "core/cluster_bus.h"
#include "core/webhook_sink.h"

namespace raptor {

std::string NodeReadiness::waiting_for(const ClusterStatus* cluster, const WebhookSink* webhooks) {
  if (cluster) {
    size_t connected = cluster->workers_connected.load(std::memory_order_relaxed);
    if (!cluster->lease_held.load(std::memory_order_relaxed))
      return "waiting for Redis: connecting, loading the scripts and taking the node's lease";
    if (connected < cluster->workers)
      return "waiting for Redis: " + std::to_string(connected) + " of " + std::to_string(cluster->workers) +
             " workers connected and subscribed";
  }
  if (webhooks) {
    WebhookStats::Stream s = webhooks->stats().stream;
    if (s.used && !s.up) return "waiting for Redis: joining the webhook stream's consumer group";
  }
  return {};
}

bool NodeReadiness::update(const ClusterStatus* cluster, const WebhookSink* webhooks, int64_t now_ms) {
  if (ready()) return true;
  int64_t started = -1;
  started_ms_.compare_exchange_strong(started, now_ms, std::memory_order_relaxed);
  if (started < 0) started = now_ms;
  std::string why = waiting_for(cluster, webhooks);
  int64_t wait_ms = cluster ? int64_t(cluster->startup_wait_s) * 1000 : 0;
  if (!why.empty() && now_ms - started < wait_ms) return false;
  if (ready_.exchange(true, std::memory_order_acq_rel)) return true;  // another worker was first
  if (!why.empty())
    log::warn("cluster: not connected to Redis %lld s after start-up (%s); taking traffic as a node alone until it "
              "is, as during a Redis outage (docs/cluster.md#readiness)",
              static_cast<long long>(wait_ms / 1000), why.c_str());
  else if (cluster)
    log::info("cluster: ready: every worker connected to Redis, the lease held%s; taking traffic",
              webhooks && webhooks->stats().stream.used ? ", the webhook stream joined" : "");
  return true;
}

}  // namespace raptor
