// A live reload (SIGHUP, docs/configuration.md#reload): the configuration is read again and put
// in place without dropping a connection, or refused with the running one left as it was.
#pragma once
#include <memory>
#include <vector>

#include "config/config.h"
#include "config/reload.h"
#include "net/worker.h"
#include "process/webhook_delivery.h"

namespace raptor::process {

class Reloader {
 public:
  // `reread` reads the configuration again; without it a reload is refused. `running` and
  // `apps` are the node's, changed in place; the rest outlives this.
  Reloader(Reread reread, Config& running, AppList& apps, std::vector<std::unique_ptr<net::Worker>>& workers,
           WebhookDelivery& webhooks)
      : reread_(std::move(reread)), running_(running), apps_(apps), workers_(workers), webhooks_(webhooks) {}

  // On the main thread, while the workers serve.
  void reload();

 private:
  Reread reread_;
  Config& running_;
  AppList& apps_;
  std::vector<std::unique_ptr<net::Worker>>& workers_;
  WebhookDelivery& webhooks_;
};

}  // namespace raptor::process
