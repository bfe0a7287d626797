#include "cluster/redis_subscriber.h"

#include <hiredis/async.h>

#include <utility>

#include "cluster/redis_reply.h"
#include "protocol/channel_pattern.h"

namespace raptor::cluster {

RedisSubscriber::RedisSubscriber(const ClusterSettings& settings, RedisConnection& connection, ClusterStatus& status,
                                 ClusterInbox& inbox, Events events)
    : settings_(settings), connection_(connection), status_(status), inbox_(inbox), events_(std::move(events)),
      node_key_(node_key(settings.prefix, settings.node_id)) {}

void RedisSubscriber::watch_channel(const App& app, const std::string& channel) {
  watch(channel_key(settings_.prefix, app.id, channel), app, channel, Interest::Kind::Channel);
}

void RedisSubscriber::unwatch_channel(const App& app, const std::string& channel) {
  unwatch(channel_key(settings_.prefix, app.id, channel), Interest::Kind::Channel);
}

void RedisSubscriber::watch_user(const App& app, const std::string& user_id) {
  watch(user_key(settings_.prefix, app.id, user_id), app, user_id, Interest::Kind::User);
}

void RedisSubscriber::unwatch_user(const App& app, const std::string& user_id) {
  unwatch(user_key(settings_.prefix, app.id, user_id), Interest::Kind::User);
}

void RedisSubscriber::watch_pattern(const App& app, const std::string& pattern) {
  watch(pattern_glob(settings_.prefix, app.id, pattern), app, pattern, Interest::Kind::Pattern);
}

void RedisSubscriber::unwatch_pattern(const App& app, const std::string& pattern) {
  unwatch(pattern_glob(settings_.prefix, app.id, pattern), Interest::Kind::Pattern);
}

bool RedisSubscriber::awaits_subscribe(const std::string& key, bool pattern) const {
  const Interests& interests = pattern ? patterns_ : interests_;
  auto it = interests.find(key);
  return it != interests.end() && it->second.awaits_subscribe();
}

void RedisSubscriber::watch(std::string key, const App& app, const std::string& target, Interest::Kind kind) {
  auto [it, added] = interests_of(kind).try_emplace(std::move(key), Interest{&app, target, kind, true});
  Interest& interest = it->second;
  interest.wanted = true;
  if (interest.state == Interest::State::None && connection_.up()) {
    subscribe(it->first, interest);
    // On its way before the client hears subscription_succeeded: what the client does next
    // reaches Redis after this SUBSCRIBE.
    connection_.write_now();
  }
}

void RedisSubscriber::unwatch(const std::string& key, Interest::Kind kind) {
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

void RedisSubscriber::subscribe(const std::string& key, Interest& interest) {
  interest.state = Interest::State::Subscribing;
  const char* command = interest.kind == Interest::Kind::Pattern ? "PSUBSCRIBE %b" : "SUBSCRIBE %b";
  redisAsyncCommand(connection_.context(), on_subscription_reply, this, command, key.data(), key.size());
}

void RedisSubscriber::unsubscribe(const std::string& key, Interest& interest) {
  interest.state = Interest::State::Unsubscribing;
  const char* command = interest.kind == Interest::Kind::Pattern ? "PUNSUBSCRIBE %b" : "UNSUBSCRIBE %b";
  redisAsyncCommand(connection_.context(), on_subscription_reply, this, command, key.data(), key.size());
}

void RedisSubscriber::connection_up() {
  for (Interests* interests : {&interests_, &patterns_})
    for (auto& [key, interest] : *interests)
      if (interest.wanted) subscribe(key, interest);
  redisAsyncCommand(connection_.context(), on_subscription_reply, this, "SUBSCRIBE %b", node_key_.data(),
                    node_key_.size());
}

void RedisSubscriber::connection_down() {
  listening_ = false;
  for (Interests* interests : {&interests_, &patterns_}) {
    for (auto it = interests->begin(); it != interests->end();) {
      it->second.state = Interest::State::None;
      events_.subscribe_settled(it->first);
      it = it->second.wanted ? std::next(it) : interests->erase(it);
    }
  }
}

void RedisSubscriber::on_subscription_reply(redisAsyncContext*, void* reply, void* privdata) {
  if (reply) static_cast<RedisSubscriber*>(privdata)->on_reply(*static_cast<redisReply*>(reply));
}

// ["message", channel, payload], ["pmessage", glob, channel, payload], or a confirmation:
// ["subscribe" | "unsubscribe" | "psubscribe" | "punsubscribe", channel or glob, count].
void RedisSubscriber::on_reply(const redisReply& reply) {
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

void RedisSubscriber::on_confirmed(std::string_view kind, std::string_view key) {
  bool pattern = kind.substr(0, 1) == "p";
  if (pattern) kind.remove_prefix(1);
  if (!pattern && key == node_key_) {
    if (kind == "subscribe") {
      listening_ = true;
      events_.listening();
    }
    return;
  }
  Interests& interests = pattern ? patterns_ : interests_;
  auto it = interests.find(std::string(key));
  if (it == interests.end()) return;
  Interest& interest = it->second;
  if (kind == "subscribe") {
    interest.state = Interest::State::Subscribed;
    events_.subscribe_settled(it->first);
    if (!interest.wanted) unsubscribe(it->first, interest);
  } else if (kind == "unsubscribe") {
    interest.state = Interest::State::None;
    if (interest.wanted) {
      subscribe(it->first, interest);
    } else {
      events_.subscribe_settled(it->first);
      interests.erase(it);
    }
  }
}

std::optional<ClusterMessage> RedisSubscriber::foreign(std::string_view payload) const {
  auto m = decode(payload);
  // Ours: delivered on this node already; but what scripts publish comes from Redis to every node.
  if (!m || (m->origin == settings_.node_id && !m->from_redis)) return std::nullopt;
  return m;
}

// A `message`: for the channel's (or user's) own recipients only; its patterns' subscribers get
// the event from their own pmessage (see the header).
void RedisSubscriber::on_message(std::string_view key, std::string_view payload) {
  auto it = interests_.find(std::string(key));
  if (it == interests_.end() || !it->second.wanted) return;
  auto m = foreign(payload);
  if (!m) return;
  const Interest& interest = it->second;
  bool user = interest.kind == Interest::Kind::User;
  if (user == (m->kind == Delivery::Kind::ChannelEvent)) return;  // a kind that does not go there
  status_.received.fetch_add(1, std::memory_order_relaxed);
  inbox_.deliver_from_cluster(m->kind, *interest.app, interest.target, m->text, m->except_socket_id, m->version);
}

// A `pmessage`: for the one pattern its glob stands for, if the pattern really matches.
void RedisSubscriber::on_pattern_message(std::string_view glob, std::string_view key, std::string_view payload) {
  auto it = patterns_.find(std::string(glob));
  if (it == patterns_.end() || !it->second.wanted) return;
  auto m = foreign(payload);
  // What scripts publish (member events, counts) is the channel's own business, as on one node.
  if (!m || m->kind != Delivery::Kind::ChannelEvent || m->from_redis) return;
  const Interest& interest = it->second;
  auto channel = channel_of_key(settings_.prefix, interest.app->id, key);
  if (!channel || !pattern_matches(interest.target, *channel)) return;  // the glob over-matched
  status_.received.fetch_add(1, std::memory_order_relaxed);
  inbox_.deliver_from_cluster_to_pattern(*interest.app, std::string(*channel), interest.target, m->text,
                                         m->except_socket_id);
}

}  // namespace raptor::cluster
