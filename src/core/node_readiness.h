// Whether this node takes traffic yet (docs/cluster.md#readiness). A node alone is ready at once.
// A node of a cluster is ready once its cluster link is whole: every worker connected to Redis
// with its subscriptions confirmed, the node's lease held (which needs the scripts' plumbing up)
// and, with webhook receivers, the webhook stream's consumer group joined. Until then its workers
// hold new WebSocket connections (no connection_established yet, what they send kept for later),
// the HTTP API answers 503, and /health says why: presence, occupancy and webhooks would
// otherwise be decided by the node alone and then again by Redis (issue 17).
//
// Once ready, a node stays ready: a later Redis outage is the degraded mode of
// docs/cluster.md#failures, not a reason to turn traffic away. A node whose Redis cannot be
// reached at start-up becomes ready in that degraded mode after its start-up wait
// (ClusterStatus::startup_wait_s, --startup-wait), so that a cluster started while Redis is down
// still serves.
//
// Shared by every worker: any of them updates it (each beat, until ready), any reads it.
#pragma once
#include <atomic>
#include <cstdint>
#include <string>

namespace raptor {

struct ClusterStatus;
class WebhookSink;

class NodeReadiness {
 public:
  // Looks at the cluster link (`cluster` null: a node alone) and the webhook stream (`webhooks`
  // null: no receivers) at `now_ms` (monotonic); true once the node is ready.
  bool update(const ClusterStatus* cluster, const WebhookSink* webhooks, int64_t now_ms);
  bool ready() const { return ready_.load(std::memory_order_acquire); }
  // What a node not ready yet waits for, for /health and the HTTP API's 503.
  static std::string waiting_for(const ClusterStatus* cluster, const WebhookSink* webhooks);

 private:
  std::atomic<bool> ready_{false};
  std::atomic<int64_t> started_ms_{-1};  // the first update: the start-up wait counts from it
};

}  // namespace raptor
