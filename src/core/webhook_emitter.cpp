#include "core/webhook_emitter.h"

namespace raptor {

void WebhookEmitter::emit(const App& app, WebhookEvent e) const {
  if (WebhookSink* sink = hub_.webhooks(); sink && !app.webhooks.empty()) sink->emit(app, std::move(e));
}

void WebhookEmitter::emit_decided(const App& app, WebhookEvent e) const {
  if (WebhookSink* sink = hub_.webhooks(); sink && !app.webhooks.empty()) sink->emit_decided(app, std::move(e));
}

void WebhookEmitter::subscription_count(const App& app, const std::string& channel, size_t count) const {
  WebhookEvent e{WebhookType::SubscriptionCount, channel};
  e.subscription_count = count;
  emit(app, std::move(e));
}

void WebhookEmitter::cache_miss(const App& app, const std::string& channel) const {
  emit(app, WebhookEvent{WebhookType::CacheMiss, channel});
}

void WebhookEmitter::client_event(const App& app, const std::string& channel, const std::string& user_id,
                                  std::string_view event, std::string_view data, const std::string& socket_id) const {
  if (app.webhooks.empty()) return;  // before the copies
  WebhookEvent e{WebhookType::ClientEvent, channel, user_id, std::string(event), std::string(data)};
  e.socket_id = socket_id;
  emit(app, std::move(e));
}

}  // namespace raptor
