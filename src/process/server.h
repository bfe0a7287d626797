// The process: builds one net::Worker per thread over a shared Hub, starts them, and runs the main
// thread's loop of signals until the node stops: SIGHUP reloads (reloader.h), SIGTERM drains
// (node_drain.h) then stops, SIGINT stops at once. It also tells systemd (Type=notify) where it
// stands and feeds its watchdog (watchdog_feeder.h). net/ only serves sockets; the lifecycle is here.
#pragma once
#include <memory>
#include <vector>

#include "common/watchdog.h"
#include "config/config.h"
#include "config/reload.h"
#include "core/hub.h"
#include "net/worker.h"
#include "process/cluster_link.h"
#include "process/webhook_delivery.h"
#include "process/worker_drain.h"

namespace raptor::process {

class Server {
 public:
  // `reread` reads the configuration again for a reload (SIGHUP); without it SIGHUP is ignored.
  explicit Server(Config config, Reread reread = {});
  ~Server();
  // Serves until SIGINT (stops at once) or SIGTERM (drains first), reloading on SIGHUP; returns
  // the process exit status.
  int run();

 private:
  // Worker `index`'s link to the cluster; null when the node is alone.
  ClusterLink* cluster_link(size_t index) { return links_.empty() ? nullptr : links_.at(index).get(); }

  Config config_;  // as running; its apps were copied into apps_, its policies handed to the workers
  AppList apps_;   // what every worker serves (see AppList)
  Reread reread_;
  ClusterStatus cluster_status_;
  Hub hub_;
  WebhookDelivery webhooks_;  // outlives the workers, whose closing connections still emit
  std::vector<std::unique_ptr<net::Worker>> workers_;
  std::vector<std::unique_ptr<ClusterLink>> links_;  // one per worker in a cluster; gone before the workers
  std::vector<std::unique_ptr<WorkerDrain>> drains_;  // one per worker; gone before the workers
  service::Heartbeats heartbeats_;  // the workers' ticks, for systemd's watchdog
};

}  // namespace raptor::process
