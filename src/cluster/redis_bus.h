// One worker's link to the other nodes of the cluster through Redis (docs/cluster.md): the
// ClusterBus its engine talks to, and what it hears handed to the engine's ClusterInbox. Each
// worker has its own two connections on its own event loop, one for commands (PUBLISH, PING, the
// scripts) and one subscribed, so nothing here is shared between threads but the counters of
// ClusterStatus.
//
// The bus keeps the connections and the worker's "connected" state (both connections up, every
// subscription confirmed, the node's lease held) and publishes; each other job is a part of its
// own, which the bus wires together:
// - RedisSubscriber (redis_subscriber.h): what the subscribed connection listens to, and the
//   messages it hears;
// - ScriptQueue (script_queue.h): how the Lua scripts travel on the command connection, in order;
// - RedisPresence, RedisOccupancy (redis_presence.h, redis_occupancy.h): the changes Redis decides
//   atomically, with their webhooks; DepartureSweeper (departure_sweeper.h) sends the departures
//   that fall due;
// - ChannelStateReader (channel_state_reader.h): the HTTP API's channel reads and the
//   subscription counts;
// - NodeLease (node_lease.h, worker 0 only): the node's lease and the clean-up of dead nodes;
// - NodeStatsExchange (node_stats_exchange.h, worker 0 only): every node's statistics.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "cluster/channel_state_reader.h"
#include "cluster/departure_sweeper.h"
#include "cluster/node_lease.h"
#include "cluster/node_stats_exchange.h"
#include "cluster/redis_connection.h"
#include "cluster/redis_occupancy.h"
#include "cluster/redis_presence.h"
#include "cluster/redis_subscriber.h"
#include "cluster/script_queue.h"
#include "config/cluster_settings.h"
#include "core/cluster_bus.h"
#include "core/cluster_inbox.h"

namespace raptor::cluster {

class RedisBus : public ClusterBus, private RedisConnection::Owner {
 public:
  using Clock = std::function<int64_t()>;  // milliseconds, monotonic (the engine's)

  // `departure_delay_ms`: how long channel_vacated / member_removed wait in Redis for an arrival
  // that cancels them. `inbox` gets what comes from the cluster; it and the clock outlive the bus.
  RedisBus(const ClusterSettings& settings, EventPort& port, ClusterStatus& status, size_t worker,
           int64_t departure_delay_ms, ClusterInbox& inbox, Clock clock);
  ~RedisBus() override;

  // Connects, reconnects when due, and checks that Redis answers; call about once a second.
  void tick(int64_t now_ms);

  void watch_channel(const App& app, const std::string& channel) override { subscriber_.watch_channel(app, channel); }
  void unwatch_channel(const App& app, const std::string& channel) override {
    subscriber_.unwatch_channel(app, channel);
  }
  void watch_user(const App& app, const std::string& user_id) override { subscriber_.watch_user(app, user_id); }
  void unwatch_user(const App& app, const std::string& user_id) override { subscriber_.unwatch_user(app, user_id); }
  void watch_pattern(const App& app, const std::string& pattern) override { subscriber_.watch_pattern(app, pattern); }
  void unwatch_pattern(const App& app, const std::string& pattern) override {
    subscriber_.unwatch_pattern(app, pattern);
  }
  void publish(Delivery::Kind kind, const App& app, std::string_view target, std::string_view text,
               std::string_view except_socket_id) override;
  bool when_subscribed(const App& app, const std::string& channel, std::function<void()> done) override;

  bool presence_ready() const override { return connected_; }
  size_t changes_outstanding() const override { return scripts_.outstanding() + occupancy_.unsent(); }
  void begin_drain() override { scripts_.begin_drain(); }
  // The end of a drain (worker 0): see NodeLease::release. `done` is called at once when this
  // worker keeps no lease or is not connected.
  void release_lease(std::function<void()> done);
  void presence_change(const App& app, const std::string& channel, const std::string& user_id, int delta,
                       std::string_view user_info, std::string_view member_event, std::string_view except_socket_id,
                       uint64_t lease, bool decides_webhooks, PresenceDone done) override;
  void occupancy_change(const App& app, const std::string& channel, int delta) override {
    occupancy_.change(app, channel, delta, connected_, decision_delay(app));
  }
  bool recount_occupancy() override {
    return occupancy_.recount(connected_, status_.lease.load(std::memory_order_relaxed));
  }
  // Takes the departures due in Redis, whoever decided them, and sends their webhooks through
  // this node; worker 0 calls it every few hundred milliseconds.
  void sweep_departures() { sweeper_.sweep(); }
  bool reads_ready() const override { return commands_.up(); }
  void read_channel_state(const App& app, const ChannelQuery& query, ChannelStateDone done) override;
  bool announce_subscription_count(const App& app, const std::string& channel, size_t local_count,
                                   bool to_subscribers, CountDone done) override;
  void share_node_stats(const StatsFields& fields, NodeStatsDone done) override;

 private:
  // The departure delay in Redis for `app`: 0 when it has no webhook receivers (nothing is decided).
  int64_t decision_delay(const App& app) const;
  void on_up(RedisConnection& c) override;
  void on_down(RedisConnection& c, const std::string& why, bool was_up) override;
  void connection_changed(const std::string& why);
  // Nothing waits for a SUBSCRIBE of `key` any more: what when_subscribed() kept goes.
  void subscribe_settled(const std::string& key);

  const ClusterSettings& settings_;
  ClusterStatus& status_;
  size_t worker_;
  ClusterInbox& inbox_;
  bool connected_ = false;  // both connections up, subscriptions confirmed, the node's lease held
  bool reported_unreachable_ = false;
  int64_t departure_delay_ms_;
  // By Redis channel: what waits for this worker's SUBSCRIBE to be confirmed (when_subscribed).
  std::unordered_map<std::string, std::vector<std::function<void()>>> subscribe_waiters_;
  uint64_t seen_lease_renewals_ = 0;  // ClusterStatus::lease_renewals when this worker last re-asserted
  bool reassert_due_ = false;         // re-assert this worker's state at the next tick (once connected)
  // The parts use the connections, declared last: a part outlives the final callbacks of its
  // calls, which come as the connections close.
  RedisSubscriber subscriber_;
  ScriptQueue scripts_;
  RedisPresence presence_;
  RedisOccupancy occupancy_;
  DepartureSweeper sweeper_;
  ChannelStateReader reader_;
  NodeStatsExchange stats_exchange_;
  // Worker 0 keeps the node's lease and cleans up dead nodes; the others have none.
  std::unique_ptr<NodeLease> lease_;
  RedisConnection commands_;
  RedisConnection subscriber_connection_;
};

}  // namespace raptor::cluster
