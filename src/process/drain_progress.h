// How a graceful drain (SIGTERM) goes: each worker writes its own DrainProgress at each drain step
// (worker_drain.h); the main thread adds them up (DrainTally) and decides when the node may exit
// (node_drain.h).
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace raptor::process {

struct DrainProgress {
  std::atomic<bool> started{false};
  std::atomic<size_t> closed{0};       // connections closed with 4200
  std::atomic<size_t> connections{0};  // WebSocket connections still open or closing
  std::atomic<size_t> http{0};         // HTTP requests read and not yet answered
  std::atomic<size_t> cluster_changes{0};  // presence and occupancy changes Redis has not answered yet
};

// The node's progress: the sum of its workers'.
struct DrainTally {
  size_t workers = 0, started = 0, closed = 0, connections = 0, http = 0, cluster_changes = 0;
  uint64_t webhooks = 0;  // webhook events still to send (WebhookQueue::flushable)

  static DrainTally of(const std::vector<const DrainProgress*>& workers, uint64_t webhooks);
  // Every worker has begun and every WebSocket has closed.
  bool sockets_closed() const { return started == workers && connections == 0; }
  // ... and nothing they left behind is waiting: the node may exit.
  bool settled() const { return sockets_closed() && http == 0 && cluster_changes == 0 && webhooks == 0; }
};

}  // namespace raptor::process
