// One worker's part of a graceful drain (SIGTERM, docs/cluster.md#graceful-shutdown): stops
// accepting connections and closes the worker's WebSocket clients with 4200, spread over the
// drain period (core/drain_pacing.h), and reports its progress for the main thread. Made on the
// main thread; begin() and everything after on the worker's thread; destroyed on the main thread
// once the worker's thread has stopped, before the worker.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>

#include "core/drain_pacing.h"
#include "net/interval_timer.h"
#include "net/worker.h"
#include "process/cluster_link.h"
#include "process/drain_progress.h"

namespace raptor::process {

class WorkerDrain {
 public:
  // `cluster`: the worker's link to the cluster, or null when the node is alone.
  WorkerDrain(net::Worker& worker, ClusterLink* cluster) : worker_(worker), cluster_(cluster) {}
  WorkerDrain(const WorkerDrain&) = delete;
  WorkerDrain& operator=(const WorkerDrain&) = delete;

  // Begins, with the connections closed over `period_ms`.
  void begin(int64_t period_ms);
  const DrainProgress& progress() const { return progress_; }

 private:
  // Closes the connections due now, reports progress.
  void step();

  net::Worker& worker_;
  ClusterLink* cluster_;
  std::optional<DrainPacing> pacing_;
  std::unique_ptr<net::IntervalTimer> timer_;
  DrainProgress progress_;
};

}  // namespace raptor::process
