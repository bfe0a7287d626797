// A worker's subscribed connection to Redis: what it listens to, and what it hears handed to the
// engine's ClusterInbox. Interest-based: it listens to a Redis channel only while this worker has
// local recipients of it (subscribers of the Pusher channel, connections of the user), so a node
// receives only the traffic it delivers. Events of one publisher leave on one connection in
// order, and Redis hands each subscriber connection its messages in that order.
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
// place (listening()). On the worker's thread only.
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "cluster/cluster_message.h"
#include "cluster/redis_connection.h"
#include "config/cluster_settings.h"
#include "core/cluster_bus.h"
#include "core/cluster_inbox.h"

struct redisAsyncContext;
struct redisReply;

namespace raptor::cluster {

class RedisSubscriber {
 public:
  struct Events {
    // Every subscription of a new connection is confirmed: listening() turned true.
    std::function<void()> listening;
    // Nothing waits for a SUBSCRIBE of the Redis channel `key` any more (confirmed, or the
    // connection dropped): what waited for it may go (ScriptTiming::after_subscribe_of).
    std::function<void(const std::string& key)> subscribe_settled;
  };

  // `connection` is the bus's subscribed connection, which tells this of its ups and downs.
  RedisSubscriber(const ClusterSettings& settings, RedisConnection& connection, ClusterStatus& status,
                  ClusterInbox& inbox, Events events);

  void watch_channel(const App& app, const std::string& channel);
  void unwatch_channel(const App& app, const std::string& channel);
  void watch_user(const App& app, const std::string& user_id);
  void unwatch_user(const App& app, const std::string& user_id);
  void watch_pattern(const App& app, const std::string& pattern);
  void unwatch_pattern(const App& app, const std::string& pattern);

  // The connection is up: every channel, user and pattern with local recipients, then the node's
  // own channel, whose confirmation comes after theirs.
  void connection_up();
  // The connection dropped: nothing is subscribed any more.
  void connection_down();
  bool listening() const { return listening_; }
  // Whether a SUBSCRIBE of the Redis channel `key` (`pattern`: a PSUBSCRIBE of the glob `key`)
  // is on its way, or will be once the UNSUBSCRIBE on its way is confirmed.
  bool awaits_subscribe(const std::string& key, bool pattern = false) const;

 private:
  struct Interest {
    enum class Kind { Channel, User, Pattern };
    const App* app;
    std::string target;  // the channel, user id or pattern
    Kind kind;
    bool wanted;  // this worker has local recipients
    enum class State { None, Subscribing, Subscribed, Unsubscribing } state = State::None;
    bool awaits_subscribe() const {
      return state == State::Subscribing || (state == State::Unsubscribing && wanted);
    }
  };
  // By Redis name: channels and users (SUBSCRIBE), and apart, as hiredis keeps them, pattern
  // globs (PSUBSCRIBE).
  using Interests = std::unordered_map<std::string, Interest>;

  Interests& interests_of(Interest::Kind kind) { return kind == Interest::Kind::Pattern ? patterns_ : interests_; }
  void watch(std::string key, const App& app, const std::string& target, Interest::Kind kind);
  void unwatch(const std::string& key, Interest::Kind kind);
  void subscribe(const std::string& key, Interest& interest);
  void unsubscribe(const std::string& key, Interest& interest);
  static void on_subscription_reply(redisAsyncContext* ac, void* reply, void* privdata);
  void on_reply(const redisReply& reply);
  // A subscribe or unsubscribe (`kind` with a leading p for patterns) of `key` confirmed.
  void on_confirmed(std::string_view kind, std::string_view key);
  void on_message(std::string_view key, std::string_view payload);
  void on_pattern_message(std::string_view glob, std::string_view key, std::string_view payload);
  // The message in `payload` when it is for this worker's engine: from another node, well formed.
  std::optional<ClusterMessage> foreign(std::string_view payload) const;

  const ClusterSettings& settings_;
  RedisConnection& connection_;
  ClusterStatus& status_;
  ClusterInbox& inbox_;
  Events events_;
  std::string node_key_;
  Interests interests_;
  Interests patterns_;
  bool listening_ = false;  // the connection's subscriptions are all confirmed
};

}  // namespace raptor::cluster
