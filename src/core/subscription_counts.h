// Subscription counts (pusher_internal:subscription_count and the subscription_count webhook) for
// apps that keep them: after each subscribe and unsubscribe, and once a second for the counts the
// ChannelDirectory held back (it throttles busy channels). A node alone announces its own count
// through its workers' mailboxes; in a cluster whose Redis is reachable, Redis sums the nodes'
// counts and publishes the event to every node, and the webhook follows its answer. Presence
// channels have member events and user_count instead (as on Pusher). Single-threaded: the
// worker's loop.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "core/app.h"
#include "core/channel_directory.h"
#include "core/cluster_bus.h"
#include "core/event_router.h"
#include "core/hub.h"
#include "core/webhook_emitter.h"
#include "protocol/channel_kind.h"

namespace raptor {

class SubscriptionCounts {
 public:
  using Clock = std::function<int64_t()>;  // milliseconds, monotonic

  // Every argument outlives the part (the engine's own members, and what it was given).
  SubscriptionCounts(const AppList& apps, Hub& hub, EventRouter& router, const WebhookEmitter& webhooks,
                     const Clock& clock)
      : apps_(apps), hub_(hub), router_(router), webhooks_(webhooks), clock_(clock) {}

  // The cluster (other nodes), or null when alone.
  void set_cluster(ClusterBus* cluster) { cluster_ = cluster; }

  // A subscription to `channel`, of kind `type`, was made on this worker (after the directory
  // knows it).
  void subscribed(const App& app, const std::string& channel, ChannelType type);
  // A subscription to the channel `channel` (not presence) ended on this worker.
  void unsubscribed(const App& app, const std::string& channel);
  // Announces the counts whose throttling period has ended. Call about once a second.
  void flush();

 private:
  ChannelDirectory::CountAnnounce announcer();
  // In a cluster whose Redis is reachable: Redis sums the nodes' counts (this node's is
  // `local_count`) and publishes the event to every node; the webhook follows its answer. False
  // when this node announces its own count instead.
  bool announce_in_cluster(const App& app, const std::string& channel, size_t local_count);

  const AppList& apps_;
  Hub& hub_;
  EventRouter& router_;
  const WebhookEmitter& webhooks_;
  const Clock& clock_;
  ClusterBus* cluster_ = nullptr;
};

}  // namespace raptor
