// The node's webhooks from start to stop: the queue every worker emits into
// (webhooks/webhook_queue.h) and the client that POSTs its requests on worker 0's loop
// (net/webhook_client.h). On the main thread, while the workers do not serve or are paused
// (reconfigure); the queue itself is thread-safe.
#pragma once
#include <cstdint>

#include "config/config.h"
#include "core/hub.h"
#include "net/webhook_client.h"
#include "net/worker.h"
#include "process/cluster_link.h"
#include "webhooks/webhook_queue.h"

namespace raptor::process {

class WebhookDelivery {
 public:
  // `apps` and `hub` outlive this; so does every worker that emits.
  WebhookDelivery(const AppList& apps, const Config& config, Hub& hub);

  // Starts the client on `sender` when there are receivers or a configuration file (a reload
  // may add receivers), its events through the cluster's Redis stream when `cluster` (the
  // sender's link) is given; false (logged) when it cannot. After the workers listen and the
  // links started, before the workers serve.
  bool start(net::Worker& sender, ClusterLink* cluster, const Config& config);
  // The workers have stopped: no more wake-ups.
  void stop() { client_.stop(); }
  // Shutting down: logs what could not be delivered.
  void abandon() { queue_.abandon(); }
  // What a draining node waits for (WebhookQueue::flushable); 0 when nothing is sent.
  uint64_t flushable() const { return started_ ? queue_.flushable() : 0; }

  // A reload changed `apps`: keeps the outboxes of unchanged receivers, and runs the events of
  // the apps `policy` shapes through it. While every worker is paused.
  void reconfigure(Policy* policy);
  // Whether receivers added by a reload are served (only when the client started).
  bool started() const { return started_; }

 private:
  const AppList& apps_;
  Hub& hub_;
  WebhookQueue queue_;
  net::WebhookClient client_;
  bool started_ = false;
};

// Whether any app served has a receiver (AppList as running, or a reload's std::vector<App>).
template <typename Apps>
bool has_webhooks(const Apps& apps) {
  for (const App& app : apps)
    if (!app.retired && !app.webhooks.empty()) return true;
  return false;
}

}  // namespace raptor::process
