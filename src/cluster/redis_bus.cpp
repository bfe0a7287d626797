#include "cluster/redis_bus.h"

#include <hiredis/async.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "cluster/cluster_message.h"
#include "common/log.h"
#include "protocol/channel_pattern.h"

namespace raptor::cluster {
namespace {

constexpr int64_t kPingDeadlineMs = 5000;  // a Redis that answers no PING for this long is dropped

}  // namespace

RedisBus::RedisBus(const ClusterSettings& settings, EventPort& port, ClusterStatus& status, size_t worker,
                   int64_t departure_delay_ms, ClusterInbox& inbox, Clock clock)
    : settings_(settings), status_(status), worker_(worker), inbox_(inbox), departure_delay_ms_(departure_delay_ms),
      subscriber_(settings, subscriber_connection_, status, inbox,
                  {[this] { connection_changed({}); },
                   [this](const std::string& key) { subscribe_settled(key); }}),
      scripts_(commands_, worker, [this](const std::string& key) { return subscriber_.awaits_subscribe(key); }),
      presence_(settings, scripts_, inbox, worker),
      occupancy_(settings, scripts_, inbox),
      sweeper_(settings, scripts_, inbox, [this] { return connected_; }),
      reader_(settings, scripts_, std::move(clock), worker),
      stats_exchange_(settings, scripts_),
      lease_(worker == 0 ? std::make_unique<NodeLease>(settings, status, scripts_, departure_delay_ms) : nullptr),
      commands_(*settings.redis, port, *this), subscriber_connection_(*settings.redis, port, *this) {
  std::vector<RedisScript*> scripts{&presence_.script(), &occupancy_.script(), &sweeper_.script(),
                                    &reader_.state_script(), &reader_.count_script()};
  if (lease_) lease_->add_scripts(scripts);
  if (worker == 0) scripts.push_back(&stats_exchange_.script());
  for (RedisScript* script : scripts) scripts_.add(*script);
}

RedisBus::~RedisBus() {
  scripts_.forget();
  if (connected_) status_.workers_connected.fetch_sub(1, std::memory_order_relaxed);
}

void RedisBus::tick(int64_t now_ms) {
  reader_.expire(now_ms);
  commands_.tick(now_ms);
  subscriber_connection_.tick(now_ms);
  if (!commands_.up()) return;
  if (lease_) lease_->tick();
  connection_changed("this node holds no lease in Redis");  // the lease may have come or gone
  // Redis may have lost what this worker counted there: after a reconnect, and whenever the
  // node's lease had to be made anew (node_lease.h).
  uint64_t renewals = status_.lease_renewals.load(std::memory_order_relaxed);
  if (renewals != seen_lease_renewals_) reassert_due_ = true;
  if (reassert_due_ && connected_) {
    seen_lease_renewals_ = renewals;
    reassert_due_ = false;
    inbox_.reassert_cluster_state();
  }
  commands_.check_alive(now_ms, kPingDeadlineMs, subscriber_connection_);
}

void RedisBus::share_node_stats(const StatsFields& fields, NodeStatsDone done) {
  if (!commands_.up()) return done(nullptr);
  stats_exchange_.share(fields, std::move(done));
}

void RedisBus::release_lease(std::function<void()> done) {
  if (lease_ && commands_.up())
    lease_->release(std::move(done));
  else
    done();
}

void RedisBus::publish(Delivery::Kind kind, const App& app, std::string_view target, std::string_view text,
                       std::string_view except_socket_id) {
  redisAsyncContext* ac = commands_.context();
  if (!ac) {
    status_.unsent.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  std::string key = kind == Delivery::Kind::ChannelEvent ? channel_key(settings_.prefix, app.id, target)
                                                         : user_key(settings_.prefix, app.id, target);
  std::string message = encode(kind, settings_.node_id, except_socket_id, text);
  redisAsyncCommand(ac, nullptr, nullptr, "PUBLISH %b %b", key.data(), key.size(), message.data(), message.size());
  status_.published.fetch_add(1, std::memory_order_relaxed);
}

bool RedisBus::when_subscribed(const App& app, const std::string& channel, std::function<void()> done) {
  if (!connected_) return false;
  // A wildcard pattern waits for its glob's PSUBSCRIBE (a glob never equals a channel's key: it
  // has a `?` no channel name has).
  bool pattern = names_pattern(channel);
  std::string key = pattern ? pattern_glob(settings_.prefix, app.id, channel) : channel_key(settings_.prefix, app.id, channel);
  if (!subscriber_.awaits_subscribe(key, pattern)) return false;
  subscribe_waiters_[key].push_back(std::move(done));
  return true;
}

void RedisBus::subscribe_settled(const std::string& key) {
  scripts_.subscribe_settled(key);
  auto waiting = subscribe_waiters_.find(key);
  if (waiting == subscribe_waiters_.end()) return;
  std::vector<std::function<void()>> done = std::move(waiting->second);
  subscribe_waiters_.erase(waiting);
  for (auto& d : done) d();
}

int64_t RedisBus::decision_delay(const App& app) const {
  return app.webhooks.empty() ? 0 : std::max<int64_t>(departure_delay_ms_, 1);
}

void RedisBus::presence_change(const App& app, const std::string& channel, const std::string& user_id, int delta,
                               std::string_view user_info, std::string_view member_event,
                               std::string_view except_socket_id, uint64_t lease, bool decides_webhooks,
                               PresenceDone done) {
  // Changes made while Redis is unreachable (leaves sent later) were reported by this node.
  int64_t delay = connected_ && decides_webhooks ? decision_delay(app) : 0;
  if (done) {
    // A join refused for want of a lease that was made meanwhile: the re-assert it triggered may
    // have passed this subscription by while this was on its way, so another one follows.
    uint64_t renewals = status_.lease_renewals.load(std::memory_order_relaxed);
    done = [this, delta, renewals, done = std::move(done)](const PresenceAnswer* answer) {
      if (answer && !answer->refused && answer->lease == kNoLease && delta > 0 &&
          renewals != status_.lease_renewals.load(std::memory_order_relaxed))
        reassert_due_ = true;
      done(answer);
    };
  }
  presence_.change(app, channel, user_id, delta, user_info, member_event, except_socket_id, lease, delay,
                   std::move(done));
}

void RedisBus::read_channel_state(const App& app, const ChannelQuery& query, ChannelStateDone done) {
  if (!commands_.up()) {
    done(nullptr);
    return;
  }
  reader_.read(app, query, std::move(done));
}

bool RedisBus::announce_subscription_count(const App& app, const std::string& channel, size_t local_count,
                                           bool to_subscribers, CountDone done) {
  if (!connected_) return false;  // this worker would not hear the event it asks Redis to publish
  reader_.announce_count(app, channel, local_count, to_subscribers, std::move(done));
  return true;
}

// --- connections ---

void RedisBus::on_up(RedisConnection& c) {
  if (&c == &subscriber_connection_) {
    subscriber_.connection_up();
  } else {
    scripts_.load_all();
    if (lease_) lease_->tick();  // the lease at once: this node counts as connected once it has it
  }
  connection_changed({});
}

void RedisBus::on_down(RedisConnection& c, const std::string& why, bool was_up) {
  if (&c == &subscriber_connection_)
    subscriber_.connection_down();
  else if (lease_)
    lease_->connection_lost();
  if (!was_up && !connected_ && !reported_unreachable_) {
    reported_unreachable_ = true;
    const RedisAddress& a = *settings_.redis;
    log::warn("cluster: worker %zu cannot reach Redis at %s:%d (%s); retrying, and meanwhile events reach this "
              "node's clients only",
              worker_, a.host.c_str(), a.port, why.c_str());
  }
  connection_changed(why);
}

void RedisBus::connection_changed(const std::string& why) {
  bool connected = commands_.up() && subscriber_connection_.up() && subscriber_.listening() &&
                   status_.lease_held.load(std::memory_order_relaxed);
  if (connected == connected_) return;
  connected_ = connected;
  const RedisAddress& a = *settings_.redis;
  if (connected) {
    reported_unreachable_ = false;
    status_.workers_connected.fetch_add(1, std::memory_order_relaxed);
    occupancy_.send_unsent();
    scripts_.send_unsent_leaves();  // now that this worker hears member events again
    reassert_due_ = true;           // after those leaves: Redis may have come back empty
    log::info("cluster: worker %zu connected to Redis at %s:%d as node %s", worker_, a.host.c_str(), a.port,
              settings_.node_id.c_str());
  } else {
    reported_unreachable_ = true;
    status_.workers_connected.fetch_sub(1, std::memory_order_relaxed);
    log::warn("cluster: worker %zu lost Redis at %s:%d (%s); retrying, and meanwhile events reach this node's "
              "clients only",
              worker_, a.host.c_str(), a.port, why.c_str());
  }
}

}  // namespace raptor::cluster
