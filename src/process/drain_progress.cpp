#include "process/drain_progress.h"

namespace raptor::process {

DrainTally DrainTally::of(const std::vector<const DrainProgress*>& workers, uint64_t webhooks) {
  DrainTally t;
  t.workers = workers.size();
  t.webhooks = webhooks;
  for (const DrainProgress* p : workers) {
    t.started += p->started;
    t.closed += p->closed;
    t.connections += p->connections;
    t.http += p->http;
    t.cluster_changes += p->cluster_changes;
  }
  return t;
}

}  // namespace raptor::process
