#include "cluster/redis_bus.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "common/log.h"
#include "protocol/channel_pattern.h"

namespace raptor::cluster {
namespace {

constexpr int64_t kPingDeadlineMs = 5000;  // a Redis that answers no PING for this long is dropped

std::string_view text_of(const redisReply* r) { return {r->str, size_t(r->len)}; }

}  // namespace

RedisBus::RedisBus(const ClusterSettings& settings, EventPort& port, ClusterStatus& status, size_t worker,
                   int64_t departure_delay_ms)
    : settings_(settings), status_(status), worker_(worker), node_key_(node_key(settings.prefix, settings.node_id)),
      departure_delay_ms_(departure_delay_ms),
      lease_(worker == 0 ? std::make_unique<NodeLease>(settings, status, static_cast<ScriptRunner&>(*this), departure_delay_ms)
                       : nullptr),
      commands_(*settings.redis, port, *this), subscriber_(*settings.redis, port, *this) {}

RedisBus::~RedisBus() {
  destroying_ = true;
  forget_scripts();
  if (connected_) status_.workers_connected.fetch_sub(1, std::memory_order_relaxed);
}

void RedisBus::tick(int64_t now_ms) {
  expire_reads(now_ms);
  commands_.tick(now_ms);
  subscriber_.tick(now_ms);
  if (!commands_.up()) return;
  if (lease_) lease_->tick();
  connection_changed("this node holds no lease in Redis");  // the lease may have come or gone
  // Redis may have lost what this worker counted there: after a reconnect, and whenever the
  // node's lease had to be made anew (node_lease.h).
  uint64_t renewals = status_.lease_renewals.load(std::memory_order_relaxed);
  if (renewals != seen_lease_renewals_) reassert_due_ = true;
  if (reassert_due_ && connected_ && engine_) {
    seen_lease_renewals_ = renewals;
    reassert_due_ = false;
    engine_->reassert_cluster_state();
  }
  commands_.check_alive(now_ms, kPingDeadlineMs, subscriber_);
}

// --- subscriptions ---

void RedisBus::watch_channel(const App& app, const std::string& channel) {
  watch(channel_key(settings_.prefix, app.id, channel), app, channel, Interest::Kind::Channel);
}

void RedisBus::unwatch_channel(const App& app, const std::string& channel) {
  unwatch(channel_key(settings_.prefix, app.id, channel), Interest::Kind::Channel);
}

void RedisBus::watch_user(const App& app, const std::string& user_id) {
  watch(user_key(settings_.prefix, app.id, user_id), app, user_id, Interest::Kind::User);
}

void RedisBus::unwatch_user(const App& app, const std::string& user_id) {
  unwatch(user_key(settings_.prefix, app.id, user_id), Interest::Kind::User);
}

void RedisBus::watch_pattern(const App& app, const std::string& pattern) {
  watch(pattern_glob(settings_.prefix, app.id, pattern), app, pattern, Interest::Kind::Pattern);
}

void RedisBus::unwatch_pattern(const App& app, const std::string& pattern) {
  unwatch(pattern_glob(settings_.prefix, app.id, pattern), Interest::Kind::Pattern);
}

void RedisBus::watch(std::string key, const App& app, const std::string& target, Interest::Kind kind) {
  auto [it, added] = interests_of(kind).try_emplace(std::move(key), Interest{&app, target, kind, true});
  Interest& interest = it->second;
  interest.wanted = true;
  if (interest.state == Interest::State::None && subscriber_.up()) {
    subscribe(it->first, interest);
    // On its way before the client hears subscription_succeeded: what the client does next
    // reaches Redis after this SUBSCRIBE.
    subscriber_.write_now();
  }
}

void RedisBus::unwatch(const std::string& key, Interest::Kind kind) {
  Interests& interests = interests_of(kind);
  auto it = interests.find(key);
  if (it == interests.end()) return;
  Interest& interest = it->second;
  interest.wanted = false;
  if (interest.state == Interest::State::None)
    interests.erase(it);
  else if (interest.state == Interest::State::Subscribed)
    unsubscribe(it->first, interest);
  // Subscribing: unsubscribed once confirmed; Unsubscribing: already on its way.
}

void RedisBus::subscribe(const std::string& key, Interest& interest) {
  interest.state = Interest::State::Subscribing;
  const char* command = interest.kind == Interest::Kind::Pattern ? "PSUBSCRIBE %b" : "SUBSCRIBE %b";
  redisAsyncCommand(subscriber_.context(), on_subscription_reply, this, command, key.data(), key.size());
}

void RedisBus::unsubscribe(const std::string& key, Interest& interest) {
  interest.state = Interest::State::Unsubscribing;
  const char* command = interest.kind == Interest::Kind::Pattern ? "PUNSUBSCRIBE %b" : "UNSUBSCRIBE %b";
  redisAsyncCommand(subscriber_.context(), on_subscription_reply, this, command, key.data(), key.size());
}

void RedisBus::on_subscription_reply(redisAsyncContext*, void* reply, void* privdata) {
  if (reply) static_cast<RedisBus*>(privdata)->on_reply(*static_cast<redisReply*>(reply));
}

// ["message", channel, payload], ["pmessage", glob, channel, payload], or a confirmation:
// ["subscribe" | "unsubscribe" | "psubscribe" | "punsubscribe", channel or glob, count].
void RedisBus::on_reply(const redisReply& reply) {
  if (reply.type != REDIS_REPLY_ARRAY || reply.elements < 3 || reply.elements > 4) return;
  for (size_t i = 0; i < 2; ++i)
    if (reply.element[i]->type != REDIS_REPLY_STRING) return;
  std::string_view kind = text_of(reply.element[0]), key = text_of(reply.element[1]);
  auto text = [&](size_t i) { return reply.element[i]->type == REDIS_REPLY_STRING; };
  if (kind == "message") {
    if (reply.elements == 3 && text(2)) on_message(key, text_of(reply.element[2]));
  } else if (kind == "pmessage") {
    if (reply.elements == 4 && text(2) && text(3))
      on_pattern_message(key, text_of(reply.element[2]), text_of(reply.element[3]));
  } else if (reply.elements == 3) {
    on_confirmed(kind, key);
  }
}

void RedisBus::on_confirmed(std::string_view kind, std::string_view key) {
  bool pattern = kind.substr(0, 1) == "p";
  if (pattern) kind.remove_prefix(1);
  if (!pattern && key == node_key_) {
    if (kind == "subscribe") {
      resubscribed_ = true;
      connection_changed({});
    }
    return;
  }
  Interests& interests = pattern ? patterns_ : interests_;
  auto it = interests.find(std::string(key));
  if (it == interests.end()) return;
  Interest& interest = it->second;
  if (kind == "subscribe") {
    interest.state = Interest::State::Subscribed;
    run_waiting_scripts(interest);
    if (!interest.wanted) unsubscribe(it->first, interest);
  } else if (kind == "unsubscribe") {
    interest.state = Interest::State::None;
    if (interest.wanted) {
      subscribe(it->first, interest);
    } else {
      run_waiting_scripts(interest);
      interests.erase(it);
    }
  }
}

std::optional<ClusterMessage> RedisBus::foreign(std::string_view payload) const {
  if (!engine_) return std::nullopt;
  auto m = decode(payload);
  // Ours: delivered on this node already; but what scripts publish comes from Redis to every node.
  if (!m || (m->origin == settings_.node_id && !m->from_redis)) return std::nullopt;
  return m;
}

// A `message`: for the channel's (or user's) own recipients only; its patterns' subscribers get
// the event from their own pmessage (see the header).
void RedisBus::on_message(std::string_view key, std::string_view payload) {
  auto it = interests_.find(std::string(key));
  if (it == interests_.end() || !it->second.wanted) return;
  auto m = foreign(payload);
  if (!m) return;
  const Interest& interest = it->second;
  bool user = interest.kind == Interest::Kind::User;
  if (user == (m->kind == Delivery::Kind::ChannelEvent)) return;  // a kind that does not go there
  status_.received.fetch_add(1, std::memory_order_relaxed);
  engine_->deliver_from_cluster(m->kind, *interest.app, interest.target, m->text, m->except_socket_id, m->version);
}

// A `pmessage`: for the one pattern its glob stands for, if the pattern really matches.
void RedisBus::on_pattern_message(std::string_view glob, std::string_view key, std::string_view payload) {
  auto it = patterns_.find(std::string(glob));
  if (it == patterns_.end() || !it->second.wanted) return;
  auto m = foreign(payload);
  // What scripts publish (member events, counts) is the channel's own business, as on one node.
  if (!m || m->kind != Delivery::Kind::ChannelEvent || m->from_redis) return;
  const Interest& interest = it->second;
  auto channel = channel_of_key(settings_.prefix, interest.app->id, key);
  if (!channel || !pattern_matches(interest.target, *channel)) return;  // the glob over-matched
  status_.received.fetch_add(1, std::memory_order_relaxed);
  engine_->deliver_from_cluster_to_pattern(*interest.app, std::string(*channel), interest.target, m->text,
                                           m->except_socket_id);
}

// --- publishing ---

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

// --- connections ---

void RedisBus::on_up(RedisConnection& c) {
  if (&c == &subscriber_) {
    // A new connection knows nothing: every channel, user and pattern with local recipients,
    // then the node's own channel, whose confirmation comes after theirs (see the header).
    for (Interests* interests : {&interests_, &patterns_})
      for (auto& [key, interest] : *interests)
        if (interest.wanted) subscribe(key, interest);
    redisAsyncCommand(c.context(), on_subscription_reply, this, "SUBSCRIBE %b", node_key_.data(), node_key_.size());
  } else {
    load_scripts(c);
    if (lease_) lease_->tick();  // the lease at once: this node counts as connected once it has it
  }
  connection_changed({});
}

void RedisBus::on_down(RedisConnection& c, const std::string& why, bool was_up) {
  if (&c == &subscriber_) {
    resubscribed_ = false;
    for (Interests* interests : {&interests_, &patterns_}) {
      for (auto it = interests->begin(); it != interests->end();) {
        it->second.state = Interest::State::None;
        run_waiting_scripts(it->second);
        it = it->second.wanted ? std::next(it) : interests->erase(it);
      }
    }
  } else {
    if (lease_) lease_->connection_lost();
  }
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
  bool connected =
      commands_.up() && subscriber_.up() && resubscribed_ && status_.lease_held.load(std::memory_order_relaxed);
  if (connected == connected_) return;
  connected_ = connected;
  const RedisAddress& a = *settings_.redis;
  if (connected) {
    reported_unreachable_ = false;
    status_.workers_connected.fetch_add(1, std::memory_order_relaxed);
    send_unsent_occupancy();
    send_unsent_leaves();  // now that this worker hears member events again
    reassert_due_ = true;  // after those leaves: Redis may have come back empty
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
