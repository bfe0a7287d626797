// One worker's link to the other nodes of a cluster, from start to stop: the worker's RedisBus
// (cluster/redis_bus.h) made on the worker's event loop and handed to its engine, ticked once a
// second (connects, reconnects, checks that Redis answers); on worker 0 the sweep of departure
// webhooks due in Redis; and, on the worker that sends webhooks, the Redis stream their events
// pass through (cluster/webhook_stream.h). The process wires these; the worker (net/) only lends
// its loop. Made on the main thread with the worker; start() after the worker listens and before
// it serves; destroyed on the main thread once the worker's thread has stopped, before the worker.
#pragma once
#include <functional>
#include <memory>

#include "config/config.h"
#include "net/interval_timer.h"
#include "net/worker.h"

namespace raptor {
class StreamLink;
struct ClusterStatus;
namespace cluster {
class RedisBus;
class WebhookStream;
}  // namespace cluster
}  // namespace raptor

namespace raptor::process {

class ClusterLink {
 public:
  // `worker`, `config` and `status` (the cluster's state the node's workers share) outlive the link.
  ClusterLink(net::Worker& worker, const Config& config, ClusterStatus& status);
  // The bus goes before the worker: closing the worker's clients must not reach it.
  ~ClusterLink();
  ClusterLink(const ClusterLink&) = delete;
  ClusterLink& operator=(const ClusterLink&) = delete;

  // Makes the bus and hands it to the engine; ticks it once a second from the worker's first
  // tick on, which connects to Redis.
  void start();
  // On the worker that sends webhooks: the Redis stream their events pass through. After start().
  cluster::WebhookStream* start_webhook_stream(StreamLink& queue, std::function<void()> poke);
  // The bus, once started; on the worker's thread.
  cluster::RedisBus* bus() { return bus_.get(); }

 private:
  // Once a second, on the worker's thread.
  void tick();

  net::Worker& worker_;
  const Config& config_;
  ClusterStatus& status_;
  std::unique_ptr<cluster::RedisBus> bus_;
  std::unique_ptr<cluster::WebhookStream> stream_;
  std::unique_ptr<net::IntervalTimer> sweeper_;  // worker 0: the departures due in Redis
};

}  // namespace raptor::process
