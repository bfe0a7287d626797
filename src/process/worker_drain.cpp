#include "process/worker_drain.h"

#include "cluster/redis_bus.h"
#include "common/log.h"

namespace raptor::process {
namespace {

// A drain closes its share of connections this often (DrainPacing).
constexpr int64_t kStepMs = 100;

}  // namespace

void WorkerDrain::begin(int64_t period_ms) {
  // Closing the listening socket refuses new connections at once: a load balancer sees the node
  // as down (its health checks fail) and sends clients, the reconnecting ones too, to the others.
  worker_.stop_listening();
  Engine& engine = worker_.engine();
  engine.begin_drain();
  if (cluster::RedisBus* bus = cluster_ ? cluster_->bus() : nullptr) bus->begin_drain();
  timer_ = std::make_unique<net::IntervalTimer>(worker_.event_port(), kStepMs, [this] { step(); });
  if (!timer_->running()) {
    log::warn("drain: worker %zu has no timer (out of file descriptors?): closing its clients at once",
              worker_.index());
    timer_.reset();
    period_ms = 0;
  }
  pacing_.emplace(engine.now_ms(), period_ms);
  // Besides the timer, once a second: the progress goes on without it.
  worker_.each_second([this] { step(); });
  step();
  progress_.started = true;
}

void WorkerDrain::step() {
  Engine& engine = worker_.engine();
  size_t n = pacing_->due(engine.now_ms(), engine.open_count());
  if (n) progress_.closed += engine.close_going_away(n);
  progress_.connections = engine.connection_count();
  progress_.http = worker_.http_exchanges();
  cluster::RedisBus* bus = cluster_ ? cluster_->bus() : nullptr;
  progress_.cluster_changes = bus ? bus->changes_outstanding() : 0;
}

}  // namespace raptor::process
