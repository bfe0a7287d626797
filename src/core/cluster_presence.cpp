// Presence in a cluster (docs/cluster.md#presence): Redis counts each user's connections per
// node and decides, atomically, which join is a user's first and which leave its last in the
// cluster; it then publishes member_added / member_removed, numbered, to the channel's
// subscribers on every node (this one included). The ChannelDirectory keeps this node's view,
// which is what presence falls back to while Redis is unreachable.
//
// A new subscriber waits for Redis's answer: its subscription_succeeded carries the cluster's
// roster and that roster's number, and what reached it meanwhile (events, member events) is
// held back and sent after it, member events only when newer than the roster. So it sees each
// member change once, in the roster or as an event, wherever the members are.
//
// Other channels, and wildcard patterns, hold their subscription_succeeded the same way while this
// worker's SUBSCRIBE to the channel (PSUBSCRIBE to the pattern's glob) is unconfirmed
// (acknowledge_when_subscribed): a client, or the app it tells,
// may publish as soon as it has it, on another node, and Redis reads its connections in no fixed
// order; so the first event could otherwise pass the SUBSCRIBE and be lost for this worker.
#include <algorithm>

#include "core/cluster_presence.h"

#include "protocol/channel_name.h"
#include "protocol/channel_resource.h"
#include "protocol/messages.h"

namespace raptor {

void ClusterPresence::ask_cluster_roster(Connection& c, const std::string& channel, int delta, const std::string& user_info,
                                bool initial) {
  Subscription* sub = c.subscriptions().find(channel);
  sub->awaiting_roster = true;
  sub->roster_request = ++roster_requests_;
  channels_of(c.app()).at(channel)->awaiting_changed(1);
  const App& app = c.app();
  std::string member_event = delta > 0 ? messages::member_added(channel, sub->user_id, user_info) : std::string();
  if (delta > 0) sub->counting = true;
  cluster_->presence_change(app, channel, sub->user_id, delta, user_info, member_event, c.socket_id(),
                            ClusterBus::kNoLease, true,
                            [this, &app, channel, socket_id = c.socket_id(), request = sub->roster_request,
                             initial](const ClusterBus::PresenceAnswer* answer) {
                              cluster_roster_answered(app, channel, socket_id, request, initial, answer);
                            });
}

void ClusterPresence::cluster_roster_answered(const App& app, const std::string& channel, const std::string& socket_id,
                                     uint64_t request, bool initial, const ClusterBus::PresenceAnswer* answer) {
  auto owned = connections_.find(socket_id);
  if (owned == connections_.end()) return;  // closed meanwhile: its leave followed the join
  Connection& c = *owned->second;
  Subscription* sub = c.subscriptions().find(channel);
  if (sub && initial) counted(*sub, answer);  // even when a repeated subscribe asked again meanwhile
  if (!sub || !sub->awaiting_roster || sub->roster_request != request) return;
  if (answer && answer->refused) {
    // Full across the cluster: refused as on one node, and taken back here (Redis counted nothing).
    std::string spelled = sub->by_address ? *resource_of_channel(channel) : channel;
    unsubscribe(c, channel, true);
    refuse_full_presence(c, spelled);
    return;
  }
  sub->awaiting_roster = false;
  channels_of(app).at(channel)->awaiting_changed(-1);
  std::string roster;
  if (answer && answer->lease == ClusterBus::kNoLease && initial) answer = nullptr;  // not counted: as below
  if (answer) {
    PresenceRoster cluster_roster;
    for (const auto& [user_id, info] : answer->members) cluster_roster.add(user_id, info);
    roster = cluster_roster.to_json_for(sub->user_id, sub->privileged);
    sub->roster_version = answer->version;
    channels_of(app).at(channel)->members_shown().given_roster(answer->members, answer->version);
  } else {
    // Redis went away before answering, or counted nothing for want of a lease: this node's
    // roster, and every member event from now on.
    roster = hub_.directory().roster(app, channel, sub->user_id, sub->privileged).first;
    sub->roster_version = 0;
  }
  std::string spelled = sub->by_address ? *resource_of_channel(channel) : channel;
  uint64_t known = sub->roster_version;
  bool sees_members = sub->privileged;
  std::vector<std::pair<uint64_t, FramePtr>> held = std::move(sub->held);
  sub->held.clear();
  for (const auto& [version, frame] : held) sub->roster_version = std::max(sub->roster_version, version);
  send(c, messages::subscription_succeeded(spelled, roster));
  for (auto& [version, frame] : held)
    if (!version || (version > known && sees_members)) send(c, std::move(frame));
  if (initial) after_subscribe(c, channel, spelled, ChannelType::Presence);
}

bool ClusterPresence::acknowledge_when_subscribed(Connection& c, const std::string& channel, const std::string& spelled,
                                         ChannelType type) {
  Subscription* sub = c.subscriptions().find(channel);
  uint64_t request = ++roster_requests_;
  const App& app = c.app();
  bool waits = cluster_->when_subscribed(app, channel, [this, &app, channel, spelled, type, request,
                                                        socket_id = c.socket_id()] {
    auto owned = connections_.find(socket_id);
    if (owned == connections_.end()) return;  // closed meanwhile
    Connection& c = *owned->second;
    Subscription* sub = c.subscriptions().find(channel);
    if (!sub || !sub->awaiting_roster || sub->roster_request != request) return;  // unsubscribed meanwhile
    sub->awaiting_roster = false;
    channels_of(app).at(channel)->awaiting_changed(-1);
    std::vector<std::pair<uint64_t, FramePtr>> held = std::move(sub->held);
    sub->held.clear();
    send(c, messages::subscription_succeeded(spelled, "{}"));
    for (auto& [version, frame] : held) send(c, std::move(frame));
    if (!names_pattern(channel)) after_subscribe(c, channel, spelled, type);  // patterns are not channels
  });
  if (!waits) return false;
  sub->awaiting_roster = true;  // what reaches it is held back until then (deliver_local)
  sub->roster_request = request;
  channels_of(app).at(channel)->awaiting_changed(1);
  return true;
}

void ClusterPresence::leave_cluster_presence(const App& app, const std::string& channel, const Subscription& gone) {
  // A join or re-assert still on its way is ahead of this leave on the same connection: the
  // leave undoes whatever it counted.
  uint64_t lease = gone.counting ? ClusterBus::kAnyLease : gone.cluster_lease;
  cluster_->presence_change(app, channel, gone.user_id, -1, {}, messages::member_removed(channel, gone.user_id), {},
                            lease, true, nullptr);
}

void ClusterPresence::counted(Subscription& sub, const ClusterBus::PresenceAnswer* answer) {
  sub.counting = false;
  if (!answer) return;  // no answer: Redis may or may not have counted it
  if (answer->refused) {
    // Full across the cluster: counted nowhere. A refused join is taken back by its caller; a
    // refused re-assert leaves the member to this node, and the next re-assert tries again.
    sub.cluster_lease = ClusterBus::kNoLease;
    return;
  }
  sub.cluster_lease = answer->lease;
  // Refused for want of a lease: kept to this node (its leave announced here) until re-asserted.
  sub.in_cluster = answer->lease != ClusterBus::kNoLease;
}

// Redis may have lost this node's presence (it came back empty, or the node was taken for dead
// and cleaned up): every local presence subscription is counted again, joins made while Redis
// was unreachable included. Redis skips those already counted under the node's current lease,
// so this is idempotent and may run after every reconnect. Subscriptions whose join is still on
// its way are left to it.
void ClusterPresence::reassert_cluster_state() {
  if (!cluster_ || !cluster_->presence_ready()) return;
  for (auto& [socket_id, owned] : connections_) {
    Connection& c = *owned;
    const App& app = c.app();
    c.subscriptions().for_each_mutable([&](const std::string& channel, Subscription& sub) {
      if (channel_type(channel) != ChannelType::Presence || sub.counting || sub.awaiting_roster) return;
      std::string info = hub_.directory().user_info(app, channel, sub.user_id).value_or("{}");
      sub.counting = true;
      // Published to every node, this one included: the other nodes' subscribers heard it leave
      // if the node was taken for dead; this node's own hear it only if they heard that too
      // (core/member_view.h). A join made while Redis was unreachable (not in the cluster yet)
      // had its webhook reported by this node: Redis decides none for it.
      cluster_->presence_change(
          app, channel, sub.user_id, 1, info, messages::member_added(channel, sub.user_id, info), {},
          sub.cluster_lease, sub.in_cluster, [this, channel, socket_id = c.socket_id()](const ClusterBus::PresenceAnswer* answer) {
            auto owned = connections_.find(socket_id);
            if (owned == connections_.end()) return;  // closed meanwhile: its leave followed
            if (Subscription* sub = owned->second->subscriptions().find(channel)) counted(*sub, answer);
          });
    });
  }
  // Occupancy: counted again only under a new lease (nothing of it left in Redis), so each
  // channel's count is given as one change from zero.
  if (!cluster_->recount_occupancy()) return;
  for (const auto& [app, channels] : channels_)
    for (const auto& [name, channel] : channels)
      if (!names_pattern(name) && channel->subscription_count() > 0)
        cluster_->occupancy_change(*app, name, int(channel->subscription_count()));
}

}  // namespace raptor
