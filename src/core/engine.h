// The engine of one worker: its connections, their subscriptions and fan-out to them.
// Plain C++: the transport (net/) feeds it client frames and closes, and drains each
// connection's queue when woken through the Transport interface. Single-threaded: every call
// comes from the worker's own loop. What spans workers (counts, presence rosters, events for
// subscribers elsewhere) goes through the Hub.
//
// The Engine coordinates single-job parts, each with its own header and tests
// (docs/architecture.md#the-engine): it reads a client's message and hands it to the part that
// answers, and makes and ends subscriptions (the channel table, the directory, the cluster). The
// parts: Admission (may a request connect), ConnectionTable (connections by socket id), Sender
// (queue, wake, slow consumers), SubscriptionAuthorizer (may it subscribe, as whom),
// ClientEventGate (may a client event go out), FanOut (delivery to this worker's subscribers),
// EventRouter (events between workers and nodes), SubscriptionCounts, WebhookEmitter (the
// webhooks the engine reports itself), UserSessions (sign-in, a user's events), HeldConnections
// (readiness), ConnectionSweeps (liveness, retired apps, drain), signin_refusal (may a
// pusher:signin sign in), ClusterPresence (presence counted in Redis).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/admission.h"
#include "core/app.h"
#include "core/channel.h"
#include "core/client_event_gate.h"
#include "core/cluster_bus.h"
#include "core/cluster_inbox.h"
#include "core/cluster_presence.h"
#include "core/connection.h"
#include "core/connection_sweeps.h"
#include "core/connection_table.h"
#include "core/dashboard_watchers.h"
#include "core/engine_limits.h"
#include "core/event_router.h"
#include "core/fan_out.h"
#include "core/held_connections.h"
#include "core/hub.h"
#include "core/policy.h"
#include "core/sender.h"
#include "core/subscription_authorizer.h"
#include "core/subscription_counts.h"
#include "core/user_sessions.h"
#include "core/webhook_emitter.h"

namespace raptor {

namespace messages {
struct ClientMessage;
}

class Engine : public ClusterInbox, private SubscriptionSteps {
 public:
  using Clock = std::function<int64_t()>;  // milliseconds, monotonic

  // `apps` and `hub` are shared by every worker and outlive the engine. Retired apps are not
  // served (see AppList).
  Engine(const AppList& apps, EngineLimits limits, Transport& transport, Hub& hub, size_t worker,
         Clock clock = {});
  ~Engine();

  const App* app_by_key(std::string_view key) const { return raptor::app_by_key(apps_, key); }
  const App* app_by_id(std::string_view id) const override { return raptor::app_by_id(apps_, id); }

  // The operator's policy (the hooks of raptor.rb), or null. Not owned; set before the first
  // connection, and only then does the transport need to read handshakes.
  // A reload (SIGHUP) sets another one, or none, between two events on the worker's thread.
  // Connections opened before it keep the handshake only if the old policy wanted it.
  void set_policy(Policy* policy);
  Policy* policy() const { return policy_; }
  // Whether the policy has a hook that reads handshakes for some app (core/policy_hooks.h).
  bool wants_handshake() const { return wants_handshake_; }
  // New limits from a reload: new connections are told the new activity timeout, and every
  // connection is pinged, timed out and bounded by the new values from now on.
  void set_limits(EngineLimits limits) {
    limits_ = limits;
    sender_.set_max_queue_bytes(limits.max_send_queue_bytes);
  }
  const EngineLimits& limits() const { return limits_; }
  // After a reload retired apps: closes their connections with 4001 ("Application does not
  // exist", which pusher-js does not retry). Returns how many.
  size_t close_retired() { return sweeps_.close_retired(); }
  // Graceful shutdown (SIGTERM): from now on the node is draining (/health says so); see
  // close_going_away.
  void begin_drain() { draining_ = true; }
  bool draining() const { return draining_; }
  // --- readiness (HeldConnections, docs/cluster.md#readiness) ---
  // Whether the node takes traffic yet: until then new connections are held (no
  // connection_established) and the HTTP API answers 503. A node alone is ready at once.
  bool ready() const { return held_.ready(); }
  // What a node not ready yet waits for (empty when ready).
  std::string waiting_for() const { return held_.waiting_for(); }
  // Looks whether the node became ready, and then establishes the connections held meanwhile.
  // The worker calls it at each beat (ten times a second).
  void check_readiness();
  // Closes up to `n` of the open connections with 4200 ("generic reconnect immediately"), so that
  // their clients reconnect at once, to another node. Returns how many.
  size_t close_going_away(size_t n) { return sweeps_.close_going_away(n); }
  // Connections not closing yet.
  size_t open_count() const { return connections_.open_count(); }
  // The cluster (other nodes through Redis), or null when alone. Not owned; set before the
  // first connection, on the worker's thread.
  void set_cluster(ClusterBus* cluster);
  ClusterBus* cluster() const { return cluster_; }

  // --- WebSocket side ---
  // Decides on a request for `path` with the `protocol` query value and the Origin header
  // (nullopt when absent) from `client_address` (none: not counted); with a handshake, the
  // policy's admit hook has its say too.
  Admission admit(std::string_view path, std::optional<std::string_view> protocol,
                  const Handshake* handshake = nullptr, std::optional<std::string_view> origin = std::nullopt,
                  std::string_view client_address = {}) const {
    AddressCheck address{hub_.addresses(), client_address, clock_(), limits_.per_address};
    return raptor::admit(apps_, policy_, path, protocol, handshake, origin, limits_.max_connections_per_app,
                         client_address.empty() ? nullptr : &address);
  }
  // A refused request: a connection that only carries the error and the close.
  Connection* open_refused(void* handle, const Admission& refusal);
  // An admitted connection; sends connection_established. The handshake is kept for the
  // policy's later hooks when it has any for the app; the address's place for as long as it lives.
  Connection* open(const App& app, void* handle, std::unique_ptr<Handshake> handshake = nullptr,
                   ClientAddressLedger::Hold address_hold = {});
  void on_message(Connection& c, std::string_view text);
  void on_binary_message(Connection& c);
  void on_pong(Connection& c);  // a WebSocket-level pong or any other sign of life
  // The transport has closed the socket: leave every channel and forget (delete) the
  // connection. Called exactly once per connection.
  void on_closed(Connection* c);
  // Periodic work: pings, pong time-outs, the authorized-connections limit and throttled
  // subscription counts, all at once. Call about once a second.
  void tick() {
    check_liveness(0, 1);
    flush_counts();
  }
  // Pings, pong time-outs and the sign-in deadline for part `part` of `parts` of the connections.
  // A server calls it `parts` times a second for each part in turn, so that no pass stops for all
  // of them at once (at 10,000 connections one whole pass took 2-5 ms; at 100,000, ten times that).
  void check_liveness(size_t part, size_t parts) { sweeps_.check_liveness(part, parts, clock_(), limits_); }
  // Closes the slowest readers while the process's send queues are over their ceiling (4100).
  // The worker calls it at each beat (ten times a second).
  void check_send_queues() { sweeps_.close_largest_queues(limits_.max_send_queue_total_bytes); }
  // Throttled subscription counts (pusher_internal:subscription_count). Call about once a second.
  void flush_counts() { counts_.flush(); }

  // Work from another worker (or this one's announcements), for this worker's connections.
  void deliver(const Delivery& d) { router_.deliver(d); }
  // An event from another node for this worker's recipients (see ClusterBus): a channel event,
  // a user event or the termination of a user's connections; `version` numbers a presence member
  // event decided in Redis (from any node, this one included).
  void deliver_from_cluster(Delivery::Kind kind, const App& app, const std::string& target, std::string_view text,
                            std::string_view except_socket_id, uint64_t version = 0) override {
    router_.deliver_from_cluster(kind, app, target, text, except_socket_id, version);
  }
  // An event published on another node to `channel`, for this worker's subscribers of the
  // wildcard `pattern` (which the bus has checked matches it); the channel's own subscribers get
  // it from deliver_from_cluster.
  void deliver_from_cluster_to_pattern(const App& app, const std::string& channel, const std::string& pattern,
                                       std::string_view text, std::string_view except_socket_id) override {
    router_.deliver_from_cluster_to_pattern(app, channel, pattern, text, except_socket_id);
  }
  // A webhook the cluster decided (channel_occupied / vacated, member_added / removed; see
  // ClusterBus), sent through this node's sink as it is: any delay was waited in Redis.
  void emit_cluster_webhook(const App& app, WebhookEvent e) override { webhooks_.emit_decided(app, std::move(e)); }

  // --- server side (HTTP API) ---
  // Sends an API event to a channel's subscribers, on every worker, except `except_socket_id`.
  // On `#server-to-user-{id}` it goes to the connections signed in as {id}; on a cache channel
  // it is also kept for later subscribers.
  void publish(const App& app, std::string_view channel, std::string_view event, std::string_view data,
               std::string_view except_socket_id);
  // Closes every connection signed in as `user_id`, on every worker, with 4009.
  void terminate_user(const App& app, const std::string& user_id) { users_.terminate(app, user_id); }
  const ChannelDirectory& directory() const { return hub_.directory(); }
  // The webhook sink, when any app has webhook receivers.
  const WebhookSink* webhooks() const { return hub_.webhooks(); }
  // The cluster's state, when this node is one of a cluster.
  const ClusterStatus* cluster_status() const { return hub_.cluster_status(); }
  // The cache channel's last API event, while it lives.
  std::optional<CachedEvent> cached_event(const App& app, const std::string& channel) const;

  size_t connection_count() const { return connections_.size(); }
  // Whether a connection of this worker watches #raptor-dashboard (core/dashboard_watchers.h).
  bool dashboard_watched() const { return !dashboard_.empty(); }
  // Sends `event` with `data` (JSON text, sent as the data string) on #raptor-dashboard to this
  // worker's watchers.
  void send_to_dashboard(std::string_view event, std::string_view data);
  // Counts this worker's state in Redis again where Redis lost it (docs/cluster.md#node-leases):
  // called by the cluster bus after it reconnects and when the node's lease had to be made anew.
  void reassert_cluster_state() override { presence_.reassert_cluster_state(); }
  // The engine's clock (milliseconds, monotonic).
  int64_t now_ms() const { return clock_(); }

 private:
  Channels& channels_of(const App& app) { return channels_[&app]; }
  // Sending goes through the Sender (these keep the engine's files short).
  void send(Connection& c, FramePtr frame) { sender_.send(c, std::move(frame)); }
  void send(Connection& c, std::string_view text) { sender_.send(c, text); }
  void send_error(Connection& c, int code, std::string_view message) { sender_.send_error(c, code, message); }
  void close(Connection& c, int code, std::string_view reason, bool discard_queue = false) {
    sender_.close(c, code, reason, discard_queue);
  }

  void subscribe(Connection& c, const messages::ClientMessage& m);
  // A subscribe to what `c` holds already: acknowledged again, changing nothing.
  void resubscribe(Connection& c, const std::string& channel, ChannelType type, Subscription& sub);
  // Makes an authorized subscription to the channel `channel` spelled `spelled`: the channel
  // table, the directory, the cluster, then subscription_succeeded.
  void make_subscription(Connection& c, const std::string& channel, const std::string& spelled, Subscription s,
                         const std::string& user_info);
  void refuse_subscription(Connection& c, std::string_view channel, const SubscriptionRefusal& r);
  // `refused_by_cluster`: a presence join Redis refused (the channel is full), which it counted nowhere.
  void unsubscribe(Connection& c, const std::string& channel, bool refused_by_cluster = false) override;
  void refuse_full_presence(Connection& c, std::string_view spelled) override;
  void client_event(Connection& c, const messages::ClientMessage& m);
  // Cache replay and subscription count after a subscription to `channel` spelled `spelled`: a
  // cache channel's last event or cache miss, and the subscription count.
  void after_subscribe(Connection& c, const std::string& channel, const std::string& spelled,
                       ChannelType type) override;
  // The channel (or wildcard pattern) a client names, by name or by URL resource.
  static std::string channel_named(std::string_view spelled);
  // Completes an authorized wildcard subscription (patterns: core/fan_out.h).
  void subscribe_pattern(Connection& c, const std::string& pattern, const std::string& spelled, Subscription s);

  // --- presence in a cluster (ClusterPresence, docs/cluster.md#presence) ---
  // Whether a presence subscription being made now is counted in Redis.
  bool presence_in_cluster(ChannelType type) const { return type == ChannelType::Presence && cluster_decides(); }
  // Whether Redis decides the webhooks of changes made now (occupancy, presence): else this node
  // reports its own transitions, as a single node does.
  bool cluster_decides() const { return cluster_ && cluster_->presence_ready(); }

  const AppList& apps_;
  EngineLimits limits_;
  Policy* policy_ = nullptr;
  ClusterBus* cluster_ = nullptr;
  bool wants_handshake_ = false;
  bool draining_ = false;
  Hub& hub_;
  size_t worker_;
  Clock clock_;
  ChannelTable channels_;         // this worker's channels and patterns, kept by (un)subscribe
  ConnectionTable connections_;
  Sender sender_;
  FanOut fan_out_;
  ConnectionSweeps sweeps_;
  SubscriptionAuthorizer authorizer_;
  ClientEventGate client_events_;
  WebhookEmitter webhooks_;
  EventRouter router_;
  SubscriptionCounts counts_;
  UserSessions users_;
  HeldConnections held_;
  DashboardWatchers dashboard_;
  ClusterPresence presence_;
};

}  // namespace raptor
