#include "core/subscription_counts.h"

#include "protocol/messages.h"

namespace raptor {

void SubscriptionCounts::subscribed(const App& app, const std::string& channel, ChannelType type) {
  // Presence channels have member events and user_count instead (as on Pusher).
  if (app.counts_subscriptions() && type != ChannelType::Presence)
    hub_.directory().count_changed(app, channel, clock_(), announcer());
}

void SubscriptionCounts::unsubscribed(const App& app, const std::string& channel) {
  // The node's last subscriber gone: the other nodes' subscribers still need the cluster's count.
  if (app.counts_subscriptions() && !hub_.directory().count_changed(app, channel, clock_(), announcer()))
    announce_in_cluster(app, channel, 0);
}

void SubscriptionCounts::flush() {
  for (const auto& app : apps_) {
    if (app.retired || !app.counts_subscriptions()) continue;
    hub_.directory().flush_counts(clock_(), announcer());
    break;  // flushes every app's counts
  }
}

ChannelDirectory::CountAnnounce SubscriptionCounts::announcer() {
  return [this](const App& app, const std::string& channel, size_t count, uint64_t workers) {
    if (announce_in_cluster(app, channel, count)) return;
    if (app.subscription_count_events)
      router_.announce(workers, EventRouter::delivery(Delivery::Kind::ChannelEvent, app, channel,
                                                      messages::subscription_count(channel, count)));
    webhooks_.subscription_count(app, channel, count);
  };
}

bool SubscriptionCounts::announce_in_cluster(const App& app, const std::string& channel, size_t local_count) {
  return cluster_ && cluster_->announce_subscription_count(
                         app, channel, local_count, app.subscription_count_events,
                         [this, &app, channel](uint64_t sum) { webhooks_.subscription_count(app, channel, sum); });
}

}  // namespace raptor
