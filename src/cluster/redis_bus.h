// One worker's link to the other nodes of the cluster through Redis pub/sub (docs/cluster.md):
// the ClusterBus its engine talks to. Each worker has its own two connections on its own event
// loop, one for commands (PUBLISH, PING) and one subscribed, so nothing here is shared between
// threads but the counters of ClusterStatus.
//
// Interest-based: the subscribed connection listens to a Redis channel only while this worker
// has local recipients of it (subscribers of the Pusher channel, connections of the user), so a
// node receives only the traffic it delivers. Events of one publisher leave on one connection
// in order, and Redis hands each subscriber connection its messages in that order.
//
// Presence, occupancy and the webhooks they decide are Lua scripts that Redis runs atomically,
// sent on the command connection in the order the worker's changes happened (redis_scripts.cpp,
// redis_presence.cpp, redis_occupancy.cpp); so are the HTTP API's channel reads and the
// subscription counts (redis_channel_state.cpp).
//
// Wildcard patterns: a worker holding subscribers of a pattern PSUBSCRIBEs to a glob standing for
// it (pattern_glob, one glob per pattern), which over-matches; each pmessage is checked against
// the pattern before it is delivered. Exactly once without any bookkeeping: for one PUBLISH Redis
// sends a subscribed connection one `message` if it SUBSCRIBEd the channel and one `pmessage` per
// glob it PSUBSCRIBEd that matches, so a `message` goes to the channel's own subscribers only and
// a `pmessage` to its one pattern's subscribers only. A worker with subscribers of galleries.5
// and of galleries.* receives the event twice from Redis, and each subscription gets it once.
//
// hiredis 0.14 keeps one callback per subscribed channel (and per pattern, apart) and forgets it
// when an UNSUBSCRIBE is confirmed, and it aborts when a confirmation arrives after the
// subscription count (channels and patterns) reached 0. So a channel or glob is never subscribed
// again while its UNSUBSCRIBE (PUNSUBSCRIBE) is unconfirmed (the SUBSCRIBE waits for that
// confirmation), and the node's own channel stays subscribed, keeping the count above 0. It is
// subscribed last on a new connection: its confirmation says that every other subscription is in
// place, and only then does the worker count as connected (in /health).
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "cluster/cluster_message.h"
#include "cluster/node_lease.h"
#include "cluster/redis_connection.h"
#include "cluster/redis_script.h"
#include "config/cluster_settings.h"
#include "core/cluster_bus.h"
#include "core/engine.h"

struct redisAsyncContext;
struct redisReply;

namespace raptor::cluster {

class RedisBus : public ClusterBus, private RedisConnection::Owner, private ScriptRunner {
 public:
  // `departure_delay_ms`: how long channel_vacated / member_removed wait in Redis for an arrival
  // that cancels them.
  RedisBus(const ClusterSettings& settings, EventPort& port, ClusterStatus& status, size_t worker,
           int64_t departure_delay_ms);
  ~RedisBus() override;

  // Where messages from other nodes go; set before start().
  void set_engine(Engine& engine) { engine_ = &engine; }
  // Connects, reconnects when due, and checks that Redis answers; call about once a second.
  void tick(int64_t now_ms);

  void watch_channel(const App& app, const std::string& channel) override;
  void unwatch_channel(const App& app, const std::string& channel) override;
  void watch_user(const App& app, const std::string& user_id) override;
  void unwatch_user(const App& app, const std::string& user_id) override;
  void watch_pattern(const App& app, const std::string& pattern) override;
  void unwatch_pattern(const App& app, const std::string& pattern) override;
  void publish(Delivery::Kind kind, const App& app, std::string_view target, std::string_view text,
               std::string_view except_socket_id) override;
  // Presence (redis_presence.cpp): one Lua script decides each change atomically.
  bool presence_ready() const override { return connected_; }
  size_t changes_outstanding() const override;
  void begin_drain() override { draining_ = true; }
  // The end of a drain (worker 0): see NodeLease::release. `done` is called at once when this
  // worker keeps no lease or is not connected.
  void release_lease(std::function<void()> done) {
    if (lease_ && commands_.up())
      lease_->release(std::move(done));
    else
      done();
  }
  void presence_change(const App& app, const std::string& channel, const std::string& user_id, int delta,
                       std::string_view user_info, std::string_view member_event, std::string_view except_socket_id,
                       uint64_t lease, bool decides_webhooks, PresenceDone done) override;
  // Occupancy and the webhooks it decides (redis_occupancy.cpp): one Lua script per change.
  void occupancy_change(const App& app, const std::string& channel, int delta) override;
  bool recount_occupancy() override;
  // Takes the departures due in Redis, whoever decided them, and sends their webhooks through
  // this node; worker 0 calls it every few hundred milliseconds.
  void sweep_departures();
  // Channel state and counts (redis_channel_state.cpp): one script call each.
  bool reads_ready() const override { return commands_.up(); }
  void read_channel_state(const App& app, const ChannelQuery& query, ChannelStateDone done) override;
  bool announce_subscription_count(const App& app, const std::string& channel, size_t local_count,
                                   bool to_subscribers, CountDone done) override;

 private:
  using Script = RedisScript;  // redis_script.h
  static const char* const kPresenceScript;   // redis_presence.cpp
  static const char* const kOccupancyScript;  // redis_occupancy.cpp
  static const char* const kSweepScript;      // redis_occupancy.cpp
  static const char* const kChannelStateScript;  // redis_channel_state.cpp
  static const char* const kCountScript;         // redis_channel_state.cpp
  struct ScriptCall;  // a script on its way
  struct StateRead;   // a channel-state read on its way (redis_channel_state.cpp)
  struct CountCall;   // a subscription count on its way
  struct Interest {
    enum class Kind { Channel, User, Pattern };
    const App* app;
    std::string target;  // the channel, user id or pattern
    Kind kind;
    bool wanted;  // this worker has local recipients
    enum class State { None, Subscribing, Subscribed, Unsubscribing } state = State::None;
    // Presence scripts of the channel waiting until Redis confirms the SUBSCRIBE (see redis_presence.cpp).
    std::vector<ScriptCall*> waiting_scripts{};
    CountCall* waiting_count = nullptr;  // likewise, the channel's newest subscription count
    // A SUBSCRIBE is on its way, or will be once the UNSUBSCRIBE on its way is confirmed.
    bool awaits_subscribe() const {
      return state == State::Subscribing || (state == State::Unsubscribing && wanted);
    }
  };
  // By Redis name: channels and users (SUBSCRIBE), and apart, as hiredis keeps them, pattern
  // globs (PSUBSCRIBE).
  using Interests = std::unordered_map<std::string, Interest>;

  // Makes a call of `script` with `args` (its `keys` keys, then ARGV).
  ScriptCall* script_call(Script& script, int keys, std::vector<std::string> args, ScriptAnswered answered,
                          bool keep_while_unreachable = false);
  // ScriptRunner: NodeLease's scripts.
  void run(RedisScript& script, int keys, std::vector<std::string> args, ScriptAnswered answered) override;
  // Sends the call now; without a connection, keeps it for later when it is to be kept (and
  // there is room), else answers it with null.
  void run_script(ScriptCall* call);
  void send_count(CountCall* call);
  // Runs the presence scripts (and sends the count) that waited for the interest's SUBSCRIBE.
  void run_waiting_scripts(Interest& interest);
  // Sends the leaves kept while Redis was unreachable, in order.
  void send_unsent_leaves();
  // Sends one occupancy change of this node (subscriptions more, or fewer when negative), deciding
  // the channel's webhooks with the departure delay `delay` (0: deciding none).
  void send_occupancy(const App& app, const std::string& channel, int64_t delta, int64_t delay);
  // Sends the occupancy changes made while Redis was unreachable (redis_occupancy.cpp).
  void send_unsent_occupancy();
  // Frees the scripts never sent (the bus is going).
  void forget_scripts();
  void load_scripts(RedisConnection& c);
  static void on_script_reply(redisAsyncContext* ac, void* reply, void* privdata);
  static void on_script_loaded(redisAsyncContext* ac, void* reply, void* privdata);
  // A webhook decided by a script, sent through this node (occupied, member_added, departures).
  void send_decided(const App& app, WebhookType type, const std::string& channel, std::string_view user_id = {});
  // The departure delay in Redis for `app`: 0 when it has no webhook receivers (nothing is decided).
  int64_t decision_delay(const App& app) const;
  // Answers `read` with the channel-state script's reply (null: none, or refused).
  void answer_read(StateRead& read, const redisReply* reply);
  // Answers with null the reads whose deadline has passed.
  void expire_reads(int64_t now_ms);

  Interests& interests_of(Interest::Kind kind) { return kind == Interest::Kind::Pattern ? patterns_ : interests_; }
  void watch(std::string key, const App& app, const std::string& target, Interest::Kind kind);
  void unwatch(const std::string& key, Interest::Kind kind);
  void subscribe(const std::string& key, Interest& interest);
  void unsubscribe(const std::string& key, Interest& interest);
  void on_reply(const redisReply& reply);
  // A subscribe or unsubscribe (`kind` with a leading p for patterns) of `key` confirmed.
  void on_confirmed(std::string_view kind, std::string_view key);
  void on_message(std::string_view key, std::string_view payload);
  void on_pattern_message(std::string_view glob, std::string_view key, std::string_view payload);
  // The message in `payload` when it is for this worker's engine: from another node, well formed.
  std::optional<ClusterMessage> foreign(std::string_view payload) const;
  void on_up(RedisConnection& c) override;
  void on_down(RedisConnection& c, const std::string& why, bool was_up) override;
  void connection_changed(const std::string& why);
  static void on_subscription_reply(redisAsyncContext* ac, void* reply, void* privdata);

  const ClusterSettings& settings_;
  ClusterStatus& status_;
  size_t worker_;
  Engine* engine_ = nullptr;
  std::string node_key_;
  Interests interests_;
  Interests patterns_;
  bool resubscribed_ = false;  // the subscribed connection's subscriptions are all confirmed
  bool connected_ = false;     // both connections up, subscriptions confirmed, the node's lease held
  bool reported_unreachable_ = false;
  int64_t departure_delay_ms_;
  Script presence_script_{kPresenceScript};
  Script occupancy_script_{kOccupancyScript};
  Script sweep_script_{kSweepScript};
  Script channel_state_script_{kChannelStateScript, {}, /*changes_state=*/false};
  Script count_script_{kCountScript, {}, /*changes_state=*/false};
  std::vector<ScriptCall*> unsent_leaves_;  // presence leaves made while Redis was unreachable
  // Occupancy changes made while Redis was unreachable, added up per channel (zero sums dropped).
  std::map<std::pair<const App*, std::string>, int64_t> unsent_occupancy_;
  // The node's lease under which this worker's occupancy is counted in Redis (kNoLease: not yet).
  uint64_t occupancy_lease_ = kNoLease;
  bool sweeping_ = false;  // a sweep is on its way
  // On their way, for their deadline; each is shared with its script call's answer.
  std::vector<std::shared_ptr<StateRead>> state_reads_;
  size_t scripts_sent_ = 0;  // scripts that change state, sent and not yet answered
  bool draining_ = false;    // see ClusterBus::begin_drain
  bool destroying_ = false;   // callbacks of dropped commands tell nobody
  // Worker 0 keeps the node's lease and cleans up dead nodes; the others have none.
  std::unique_ptr<NodeLease> lease_;
  uint64_t seen_lease_renewals_ = 0;  // ClusterStatus::lease_renewals when this worker last re-asserted
  bool reassert_due_ = false;         // re-assert this worker's state at the next tick (once connected)
  // Last: destroyed first, while the state their final callbacks touch still exists.
  RedisConnection commands_;
  RedisConnection subscriber_;
};

// A subscription count on its way (redis_channel_state.cpp); complete here, since a bus going
// away frees those still waiting for their channel's SUBSCRIBE (redis_scripts.cpp).
struct RedisBus::CountCall {
  std::vector<std::string> args;  // the keys, then ARGV
  CountDone done;
};

}  // namespace raptor::cluster
