// Presence in a cluster (docs/cluster.md#presence): this worker's side of the protocol by which
// Redis counts each user's connections per node and decides, atomically, which join is a user's
// first and which leave its last in the cluster. It asks Redis for the roster of a new presence
// subscriber and holds the subscription back until it comes, tells Redis of leaves, counts the
// worker's presence again when Redis lost it, and holds other channels' subscription_succeeded
// until this worker's SUBSCRIBE is confirmed. Its own state: the numbering of roster requests.
// It makes and ends no subscription itself: the steps back go through SubscriptionSteps (the
// Engine). Single-threaded: the worker's loop.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "core/channel.h"
#include "core/cluster_bus.h"
#include "core/connection.h"
#include "core/connection_table.h"
#include "core/fan_out.h"
#include "core/hub.h"
#include "core/sender.h"
#include "protocol/channel_kind.h"

namespace raptor {

// What presence in a cluster hands back to whoever makes subscriptions.
class SubscriptionSteps {
 public:
  virtual ~SubscriptionSteps() = default;
  // Takes back the subscription of `c` to `channel`; `refused_by_cluster`: a presence join Redis
  // refused (the channel is full), which it counted nowhere.
  virtual void unsubscribe(Connection& c, const std::string& channel, bool refused_by_cluster) = 0;
  virtual void refuse_full_presence(Connection& c, std::string_view spelled) = 0;
  // Cache replay and subscription count once subscription_succeeded went out.
  virtual void after_subscribe(Connection& c, const std::string& channel, const std::string& spelled,
                               ChannelType type) = 0;
};

class ClusterPresence {
 public:
  // Every argument outlives the part (the engine's own members, and what it was given).
  ClusterPresence(Hub& hub, ConnectionTable& connections, ChannelTable& channels, Sender& sender,
                  SubscriptionSteps& steps)
      : hub_(hub), connections_(connections), channels_(channels), sender_(sender), steps_(steps) {}

  // The cluster (other nodes), or null when alone.
  void set_cluster(ClusterBus* cluster) { cluster_ = cluster; }

  // Sends `c`'s change of `channel` (delta 1 join, 0 roster only) to Redis and holds the
  // subscription back until the roster comes; `initial` when it is a new subscription.
  void ask_cluster_roster(Connection& c, const std::string& channel, int delta, const std::string& user_info,
                          bool initial);
  // Tells Redis that the subscription `gone`, counted there, left `channel`.
  void leave_cluster_presence(const App& app, const std::string& channel, const Subscription& gone);
  // When this worker's SUBSCRIBE to `channel` is still on its way to Redis: holds the new
  // subscription's subscription_succeeded (and what reaches it meanwhile) until Redis confirmed
  // it, and answers true.
  bool acknowledge_when_subscribed(Connection& c, const std::string& channel, const std::string& spelled,
                                   ChannelType type);
  // Counts this worker's state in Redis again where Redis lost it (docs/cluster.md#node-leases).
  void reassert_cluster_state();

 private:
  // Redis's answer (null: none came): subscription_succeeded with the cluster's roster, then what
  // was held back.
  void cluster_roster_answered(const App& app, const std::string& channel, const std::string& socket_id,
                               uint64_t request, bool initial, const ClusterBus::PresenceAnswer* answer);
  // A join or re-assert of `sub` answered (null: not counted).
  static void counted(Subscription& sub, const ClusterBus::PresenceAnswer* answer);

  // The steps the moved code takes, by the names it had in the Engine.
  Channels& channels_of(const App& app) { return channels_[&app]; }
  void send(Connection& c, FramePtr frame) { sender_.send(c, std::move(frame)); }
  void send(Connection& c, std::string_view text) { sender_.send(c, text); }
  void unsubscribe(Connection& c, const std::string& channel, bool refused_by_cluster) {
    steps_.unsubscribe(c, channel, refused_by_cluster);
  }
  void refuse_full_presence(Connection& c, std::string_view spelled) { steps_.refuse_full_presence(c, spelled); }
  void after_subscribe(Connection& c, const std::string& channel, const std::string& spelled, ChannelType type) {
    steps_.after_subscribe(c, channel, spelled, type);
  }

  Hub& hub_;
  ConnectionTable& connections_;
  ChannelTable& channels_;
  Sender& sender_;
  SubscriptionSteps& steps_;
  ClusterBus* cluster_ = nullptr;
  uint64_t roster_requests_ = 0;  // numbers the requests for the cluster's roster
};

}  // namespace raptor
