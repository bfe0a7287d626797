// Graceful shutdown (SIGTERM, docs/cluster.md#graceful-shutdown), as the main thread runs it. The
// workers stop accepting and close their own clients in paced batches (worker_drain.h); this only
// watches their progress, a tenth of a second at a time, in sigtimedwait so that a second SIGTERM
// or a SIGINT cuts it short. The node is done when every WebSocket has closed, every HTTP request
// read has been answered, Redis has answered every presence and occupancy change (this node's
// members and subscriptions no longer count there) and the webhooks are out to every receiver that
// answers (departures wait out their delay first); it gives up waiting kFinishMs after the last
// WebSocket closed.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "net/worker.h"
#include "process/cluster_link.h"
#include "process/signals.h"
#include "process/watchdog_feeder.h"
#include "process/worker_drain.h"

namespace raptor::process {

class NodeDrain {
 public:
  // `webhooks`: the webhook events still to send (0 when the node sends none). `cluster`: worker
  // 0's link to the cluster, which gives the node's lease back at the end; null when alone.
  NodeDrain(std::vector<std::unique_ptr<net::Worker>>& workers, std::vector<std::unique_ptr<WorkerDrain>>& drains,
            std::function<uint64_t()> webhooks, ClusterLink* cluster)
      : workers_(workers), drains_(drains), webhooks_(std::move(webhooks)), cluster_(cluster) {}

  // Drains over `period_s`; returns once done, given up or cut short by `signals`.
  void run(int period_s, const Signals& signals, WatchdogFeeder& watchdog);

 private:
  DrainTally tally() const;
  // The end of a drain in a cluster: worker 0 gives the node's lease back once Redis holds
  // nothing of the node, so that no other node takes it for dead and cleans up after it. Waits
  // a second at most for Redis.
  void release_lease();

  std::vector<std::unique_ptr<net::Worker>>& workers_;
  std::vector<std::unique_ptr<WorkerDrain>>& drains_;
  std::function<uint64_t()> webhooks_;
  ClusterLink* cluster_;
};

}  // namespace raptor::process
