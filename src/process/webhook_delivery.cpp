#include "process/webhook_delivery.h"

#include "common/log.h"

namespace raptor::process {
namespace {

bool has_https_webhooks(const AppList& apps) {
  for (const App& app : apps)
    for (const WebhookEndpoint& to : app.webhooks)
      if (!app.retired && to.tls) return true;
  return false;
}

// The apps whose webhook events go through the shape_webhook hook of `policy`.
std::vector<const App*> shaped_apps(const AppList& apps, Policy* policy) {
  std::vector<const App*> out;
  for (const App& app : apps)
    if (policy && !app.retired && policy->has(app, Policy::Hook::ShapeWebhook)) out.push_back(&app);
  return out;
}

// A receiver whose certificate is not checked gets its events from whoever answers at its
// address: said at start and at every reload, so that the opt-out is not forgotten.
void warn_unverified(const AppList& apps) {
  for (const App& app : apps)
    for (const WebhookEndpoint& to : app.webhooks)
      if (!app.retired && to.tls && !to.verify_tls)
        log::warn("app %s: webhook %s: TLS certificate verification is off (verify_tls): its events go to "
                  "whoever answers at that address",
                  app.id.c_str(), to.origin().c_str());
}

}  // namespace

WebhookDelivery::WebhookDelivery(const AppList& apps, const Config& config, Hub& hub)
    : apps_(apps), hub_(hub), queue_(apps, config.webhooks), client_(queue_, config.webhooks) {
  if (has_webhooks(apps_)) hub_.set_webhooks(&queue_);
  if (!config.policies.empty()) queue_.shape_events_of(shaped_apps(apps_, config.policies.front().get()));
}

bool WebhookDelivery::start(net::Worker& sender, ClusterLink* cluster, const Config& config) {
  if (!has_webhooks(apps_) && config.config_file.empty()) return true;
  warn_unverified(apps_);
  cluster::WebhookStream* stream =
      cluster ? cluster->start_webhook_stream(queue_, [this] { client_.pump_soon(); }) : nullptr;
  if (!client_.start(sender, has_https_webhooks(apps_), stream)) return false;
  started_ = true;
  return true;
}

void WebhookDelivery::reconfigure(Policy* policy) {
  queue_.reconfigure(apps_);
  warn_unverified(apps_);
  queue_.shape_events_of(shaped_apps(apps_, policy));  // asked on this thread before worker 0 uses it
  hub_.set_webhooks(has_webhooks(apps_) && started_ ? &queue_ : nullptr);
}

}  // namespace raptor::process
