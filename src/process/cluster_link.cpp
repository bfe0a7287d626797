#include "process/cluster_link.h"

#include "cluster/redis_bus.h"
#include "cluster/webhook_stream.h"
#include "common/log.h"

namespace raptor::process {
namespace {

// Worker 0 of a cluster node takes the departure webhooks due in Redis this often (a departure
// is sent up to this late after its delay).
constexpr int64_t kSweepEveryMs = 300;

}  // namespace

ClusterLink::ClusterLink(net::Worker& worker, const Config& config, ClusterStatus& status)
    : worker_(worker), config_(config), status_(status) {}

ClusterLink::~ClusterLink() {
  worker_.engine().set_cluster(nullptr);
  sweeper_.reset();
  bus_.reset();
  stream_.reset();
}

void ClusterLink::start() {
  Engine& engine = worker_.engine();
  bus_ = std::make_unique<cluster::RedisBus>(config_.cluster, worker_.event_port(), status_, worker_.index(),
                                             config_.webhooks.departure_delay_ms, engine,
                                             [&engine] { return engine.now_ms(); });
  engine.set_cluster(bus_.get());
  worker_.each_second([this] { tick(); });
  if (worker_.index() != 0) return;
  // Made on the worker's thread, once its loop runs, like every watcher of its event port.
  worker_.run_on_thread([this] {
    sweeper_ = std::make_unique<net::IntervalTimer>(worker_.event_port(), kSweepEveryMs,
                                                    [this] { bus_->sweep_departures(); });
    if (!sweeper_->running()) log::warn("cluster: no timer for the departure webhooks (out of file descriptors?)");
  });
}

cluster::WebhookStream* ClusterLink::start_webhook_stream(StreamLink& queue, std::function<void()> poke) {
  stream_ = std::make_unique<cluster::WebhookStream>(config_.cluster, config_.webhooks, worker_.event_port(), queue,
                                                     std::move(poke));
  return stream_.get();
}

void ClusterLink::tick() {
  int64_t now = worker_.engine().now_ms();
  bus_->tick(now);
  if (stream_) stream_->tick(now);
}

}  // namespace raptor::process
