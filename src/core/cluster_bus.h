// What a worker's engine asks of the cluster: the other raptor nodes sharing a Redis
// (docs/cluster.md). Implemented by cluster/ (one per worker, on the worker's thread); the
// engine holds none when raptor runs alone, and then does no cluster work at all.
//
// Interest-based: the engine watches a channel while this worker has local subscribers to it, a
// wildcard pattern while it has local subscribers to the pattern, and a user while connections
// signed in as that user are here; only watched traffic reaches this worker from other nodes,
// through its ClusterInbox (core/cluster_inbox.h). What the engine sends to the cluster it has
// already delivered on this node (to its own and the other workers' connections, its patterns'
// subscribers included), so the cluster hands it to the other nodes only.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/app.h"
#include "core/hub.h"

namespace raptor {

// What /health reports of the cluster: written by every worker's bus, read by any worker.
struct ClusterStatus {
  std::string node_id;
  size_t workers = 0;
  std::atomic<size_t> workers_connected{0};  // workers whose Redis connections are both up
  std::atomic<uint64_t> published{0};        // messages sent to the other nodes
  std::atomic<uint64_t> received{0};         // messages from other nodes handed to the engine
  std::atomic<uint64_t> unsent{0};           // not sent: Redis was unreachable
  int node_timeout_s = 0;                    // the lease's length (docs/cluster.md#node-leases)
  int startup_wait_s = 10;                   // before serving alone when Redis is unreachable at start-up
  // The node holds its lease in Redis (worker 0 renewed it last time it asked): a worker counts as
  // connected, and presence goes to Redis, only while it does.
  std::atomic<bool> lease_held{false};
  // That lease's id (its making time in µs; 0: none): a worker's occupancy is counted under it
  // (RedisBus::recount_occupancy).
  std::atomic<uint64_t> lease{0};
  // Bumped each time this node's lease was found missing in Redis (Redis came back empty, or the
  // node was taken for dead) and made anew: every worker then re-asserts its state.
  std::atomic<uint64_t> lease_renewals{0};
  std::atomic<uint64_t> dead_nodes_cleaned{0};  // dead nodes whose clean-up this node claimed
  std::atomic<uint64_t> dead_members_removed{0};  // their members this node removed from the cluster
};

// --- channel state kept in Redis by every node (docs/cluster.md#http-api-answers) ---
// What the HTTP API asks the cluster for.
struct ChannelQuery {
  enum class Kind { List, Channel, Users };
  Kind kind = Kind::Channel;
  std::string name;     // the channel; for List, the prefix the names begin with (may be empty)
  // List: each channel's subscription_count, user_count too (a hash read per channel and count)
  bool subscription_counts = false;
  bool user_counts = false;
};
struct ChannelCounts {
  std::string name;
  uint64_t subscription_count = 0;
  uint64_t user_count = 0;  // presence channels: their members
};
// The cluster's answer (or the node's own view, in the same shape).
struct ChannelState {
  std::vector<ChannelCounts> channels;  // List: the occupied channels, by name; Channel: the one
  std::vector<std::string> users;       // Users: the members' ids, sorted
  bool truncated = false;               // List: more channels matched than an answer holds
};

class ClusterBus {
 public:
  virtual ~ClusterBus() = default;

  // This worker's first local subscriber of `channel` arrived / its last one left.
  virtual void watch_channel(const App& app, const std::string& channel) = 0;
  virtual void unwatch_channel(const App& app, const std::string& channel) = 0;
  // This worker's first local subscriber of the wildcard `pattern` (by name) arrived / its last
  // one left. Events of the channels it matches then come to deliver_from_cluster_to_pattern,
  // once per event for the pattern, apart from the channel's own (watch_channel) delivery.
  virtual void watch_pattern(const App& app, const std::string& pattern) = 0;
  virtual void unwatch_pattern(const App& app, const std::string& pattern) = 0;
  // This worker's first connection signed in as `user_id` arrived / its last one left.
  virtual void watch_user(const App& app, const std::string& user_id) = 0;
  virtual void unwatch_user(const App& app, const std::string& user_id) = 0;

  // Whether this worker's SUBSCRIBE to `channel` is on its way to Redis: then `done` is called
  // once Redis confirmed it (or the connection dropped), and a subscriber's
  // subscription_succeeded waits for that, so that nothing published after the client heard it
  // can reach Redis before the SUBSCRIBE. False (`done` dropped) when nothing is to wait for.
  virtual bool when_subscribed(const App& app, const std::string& channel, std::function<void()> done) {
    (void)app, (void)channel, (void)done;
    return false;
  }

  // Hands a channel event, user event or terminate-user to the other nodes. `text` is the frame
  // (empty for TerminateUser); nobody on another node with `except_socket_id` receives it.
  virtual void publish(Delivery::Kind kind, const App& app, std::string_view target, std::string_view text,
                       std::string_view except_socket_id) = 0;

  // --- presence, decided in Redis (docs/cluster.md#presence) ---
  // The cluster-wide roster after a change: its number and its members (user id, user_info JSON).
  struct PresenceAnswer {
    uint64_t version = 0;
    std::vector<std::pair<std::string, std::string>> members;
    // The join was refused, nothing changed: the channel has max_presence_members users and this
    // one is not among them.
    bool refused = false;
    // The lease under which the change was counted (docs/cluster.md#node-leases): a later change
    // of the same subscription says it, so that Redis applies a leave only to a count it still
    // has and a re-assert only where it lost the count.
    uint64_t lease = 0;
  };
  // No lease known: a subscription not counted yet, or counted under a lease Redis has lost.
  static constexpr uint64_t kNoLease = 0;
  // A leave whose join (or re-assert) is still on its way: whatever lease that one counted under.
  static constexpr uint64_t kAnyLease = UINT64_MAX;
  // Called on the worker's thread with the answer, or with null when Redis did not answer (the
  // connection dropped) or refused the change (this node holds no lease in Redis right now: it
  // re-asserts once it does); never called once the bus is being destroyed.
  using PresenceDone = std::function<void(const PresenceAnswer*)>;
  // Whether presence and occupancy changes go to Redis now, which then decides their webhooks;
  // when not, the engine keeps presence per node and this node reports its own transitions.
  virtual bool presence_ready() const { return false; }
  // Presence and occupancy changes not yet answered by Redis: sent and unanswered, waiting for a
  // SUBSCRIBE, or kept while Redis is unreachable. A draining node waits for 0, so that it leaves
  // none of its members or subscriptions counted in Redis.
  virtual size_t changes_outstanding() const { return 0; }
  // The node is draining (SIGTERM) and owes Redis none of its members: a leave whose answer was
  // lost with a dropped connection is sent again once Redis is back. Not otherwise, since Redis
  // may have run it already; a draining node's count of the user can only be on its way to 0,
  // and the script never takes it below, so at worst the member leaves a moment early.
  virtual void begin_drain() {}
  // Counts one connection of `user_id` more (delta 1) or less (-1) on this node in the presence
  // channel, or only reads the roster (0). When that makes the user's first or last connection
  // in the cluster, `member_event` is published to the channel's subscribers on every node, this
  // one included, numbered (Delivery::version) in the order Redis decided the changes; nobody
  // with `except_socket_id` receives it. `lease` is the lease the subscription was counted under
  // (kNoLease, or kAnyLease for a leave racing its join): a join or re-assert counted under the
  // current lease already changes nothing, nor does a leave of a count made under a lost one.
  // `done` (may be empty) gets the roster. A join of a user new to the channel when it has
  // app.max_presence_members users is refused (nothing changes). Redis decides member_added /
  // member_removed webhooks once for the cluster (the bus sends them through
  // ClusterInbox::emit_cluster_webhook) while presence_ready(), unless `decides_webhooks` is false (a
  // re-assert of a join this node reported itself, made while Redis was unreachable).
  virtual void presence_change(const App& app, const std::string& channel, const std::string& user_id, int delta,
                               std::string_view user_info, std::string_view member_event,
                               std::string_view except_socket_id, uint64_t lease, bool decides_webhooks,
                               PresenceDone done) {
    (void)app, (void)channel, (void)user_id, (void)delta, (void)user_info, (void)member_event, (void)except_socket_id;
    (void)lease, (void)decides_webhooks;
    if (done) done(nullptr);
  }

  // --- occupancy, kept in Redis (docs/cluster.md#occupancy-and-webhooks) ---
  // One subscription of this worker to the concrete `channel` more (delta 1) or less (-1);
  // wildcard patterns are not channels and do not count. Redis sums every node's and decides
  // channel_occupied / channel_vacated once for the cluster while presence_ready(); changes made
  // while it is not are sent once Redis is reachable, without deciding webhooks.
  virtual void occupancy_change(const App& app, const std::string& channel, int delta) {
    (void)app, (void)channel, (void)delta;
  }
  // Whether Redis holds none of this worker's occupancy under the node's current lease (it has a
  // new one: the old one's counts were cleaned up or lost). The engine then gives each channel's
  // count as one occupancy_change from zero. Answers true once per lease, so asking is idempotent.
  virtual bool recount_occupancy() { return false; }

  // --- channel state for the HTTP API and subscription counts ---
  // Called on the worker's thread with the cluster's state, or with null when Redis did not
  // answer in time (about 2 s) or the connection dropped; never once the bus is being destroyed.
  using ChannelStateDone = std::function<void(const ChannelState*)>;
  // Whether reads can go to Redis now; when not, the HTTP API answers from this node's view.
  virtual bool reads_ready() const { return false; }
  virtual void read_channel_state(const App& app, const ChannelQuery& query, ChannelStateDone done) {
    (void)app, (void)query;
    done(nullptr);
  }
  // This node's subscription count of `channel` changed (to `local_count`) and is to be
  // announced: Redis sums every node's count and, when `to_subscribers`, publishes the
  // subscription_count event with the sum to the channel's subscribers on every node, this one
  // included. `done` gets the sum (for the webhook) when Redis answers. Must be called after the
  // change itself went to Redis on this worker (the same connection keeps the order). False
  // when this worker is not connected: the caller announces this node's count itself.
  using CountDone = std::function<void(uint64_t count)>;
  virtual bool announce_subscription_count(const App& app, const std::string& channel, size_t local_count,
                                           bool to_subscribers, CountDone done) {
    (void)app, (void)channel, (void)local_count, (void)to_subscribers, (void)done;
    return false;
  }

  // --- every node's statistics (docs/metrics.md#cluster-wide) ---
  using StatsFields = std::vector<std::pair<std::string, std::string>>;  // field, JSON text
  using NodeStats = std::vector<std::pair<std::string, StatsFields>>;     // by node id
  // Called on the worker's thread with the other live nodes' fields, or with null when Redis did
  // not answer; never once the bus is being destroyed.
  using NodeStatsDone = std::function<void(const NodeStats*)>;
  // How long a node's statistics live in Redis unless it writes them again (about once a second).
  static constexpr int64_t kNodeStatsTtlMs = 5000;
  // Worker 0: writes this node's statistics and answers with the other nodes'.
  virtual void share_node_stats(const StatsFields& fields, NodeStatsDone done) {
    (void)fields;
    done(nullptr);
  }
};

}  // namespace raptor
