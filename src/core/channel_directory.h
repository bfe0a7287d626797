// The app-wide view of channels that every worker shares: how many subscriptions each channel
// has, which workers hold its subscribers, and the presence rosters. Thread-safe; the HTTP API
// reads it, workers update it on subscribe and unsubscribe.
//
// Presence changes are numbered per channel, and announced (to every worker holding
// subscribers, the announcing one included) while the lock is held, so every worker's mailbox
// receives them in that order. A joining subscriber is given the roster with its number, and a
// member event numbered n goes only to subscribers whose roster is older than n. So every
// subscriber sees each change exactly once and in order, in its roster or as an event,
// whichever workers the members are on.
//
// The app-wide transitions that webhooks report (channel_occupied when the first subscription
// arrives on any worker, channel_vacated when the last leaves, member_added / member_removed for
// a user's first and last connection) go to the WebhookSink under the same lock, so they reach
// it in the order they happened. In a cluster connected to Redis, Redis decides those for the
// whole cluster instead, and the callers say so (`report` false): the directory then reports none.
//
// Subscription counts (for apps with subscription_count events) are announced the same way,
// under the lock, so every worker sees them in the order they changed. On a channel with more
// than kCountThrottleAbove subscriptions a count goes out at most once per kCountThrottleMs,
// and the newest count left waiting goes out when the period ends (flush_counts).
//
// Wildcard subscriptions (docs/channels.md) are kept apart from channels: a pattern is not a
// channel, so it has no occupancy, counts or webhooks, and the HTTP API never lists one. Per app,
// an index of the patterns that have subscribers, and the workers holding them, lets route() find
// in one walk every worker a published event must reach, and the patterns it matches, at a cost
// that does not grow with unrelated patterns.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/app.h"
#include "core/presence_roster.h"
#include "core/webhook_sink.h"
#include "core/wildcard_index.h"

namespace raptor {

struct ChannelSnapshot {
  bool occupied = false;
  size_t subscription_count = 0;
  size_t user_count = 0;
  bool presence = false;
};

class ChannelDirectory {
 public:
  // Where the transitions go; null (the default) sends none. Set before workers run.
  void set_webhooks(WebhookSink* sink) { webhooks_ = sink; }

  // Worker `worker` added a subscription (now `local_count` local subscribers), or removed one.
  // `report`: send the app-wide transition's webhook (false: the cluster decides it).
  void subscribed(const App& app, const std::string& channel, size_t worker, bool report = true);
  void unsubscribed(const App& app, const std::string& channel, size_t worker, size_t local_count,
                    bool report = true);

  // Called with the lock held when a change is to be announced: the change's number and the
  // workers (bit w for worker w) holding subscribers of the channel.
  using Announce = std::function<void(uint64_t version, uint64_t workers)>;

  struct Join {
    bool first = false;  // the user's first connection: announce member_added
    uint64_t version = 0;
    std::string roster_json;  // the roster including the joiner, as subscription_succeeded carries it
  };
  // Subscribes a connection of `user_id` on `worker` to a presence channel, under the same lock
  // as the roster change so that no concurrent member event misses this worker; nullopt when
  // the channel already has `app.max_presence_members` other users. A subscription that does
  // not see the roster (not privileged) is given its own member alone.
  std::optional<Join> join(const App& app, const std::string& channel, size_t worker, const std::string& user_id,
                           std::string user_info_json, const Announce& announce, bool sees_roster = true,
                           bool report = true);
  struct Leave {
    bool last = false;  // the user's last connection: announce member_removed
    uint64_t version = 0;
  };
  // Unsubscribes a connection of `user_id` (the worker keeps `local_count` local subscribers).
  // `report`: the channel's webhook (vacated); `report_member`: member_removed.
  Leave leave(const App& app, const std::string& channel, size_t worker, size_t local_count,
              const std::string& user_id, const Announce& announce, bool report = true, bool report_member = true);
  // The current roster as `user_id`'s subscription sees it, and its number (for a repeated subscribe).
  std::pair<std::string, uint64_t> roster(const App& app, const std::string& channel, const std::string& user_id,
                                          bool sees_roster) const;
  // A member's user_info JSON, or nullopt when it is not in the channel.
  std::optional<std::string> user_info(const App& app, const std::string& channel, const std::string& user_id) const;

  static constexpr size_t kCountThrottleAbove = 100;
  static constexpr int64_t kCountThrottleMs = 5000;
  // Called with the lock held: the channel's subscription count and the workers holding them.
  using CountAnnounce =
      std::function<void(const App& app, const std::string& channel, size_t count, uint64_t workers)>;
  // The channel's subscription count changed: announce it now, or later if throttled. False
  // when no subscription of it is left on this node: nothing to announce here.
  bool count_changed(const App& app, const std::string& channel, int64_t now_ms, const CountAnnounce& announce);
  // Announces the throttled counts whose period has ended. Any worker may call it.
  void flush_counts(int64_t now_ms, const CountAnnounce& announce);

  // Worker `worker` added a subscription to the wildcard pattern, or removed one (it keeps
  // `local_count` local subscribers of the pattern).
  void pattern_subscribed(const App& app, const std::string& pattern, size_t worker);
  void pattern_unsubscribed(const App& app, const std::string& pattern, size_t worker, size_t local_count);
  // Whether any app has a wildcard subscription: without one, a lone worker needs no route.
  bool has_patterns() const { return pattern_count_.load(std::memory_order_relaxed) != 0; }

  // Where an event published to `channel` goes.
  struct Route {
    uint64_t workers = 0;  // bit w: worker w holds subscribers of the channel or of a pattern below
    // The patterns matching the channel that have subscribers (on some worker); null when none.
    std::shared_ptr<const std::vector<std::string>> patterns;
  };
  Route route(const App& app, const std::string& channel) const;

  ChannelSnapshot snapshot(const App& app, const std::string& channel) const;
  std::vector<std::pair<std::string, ChannelSnapshot>> occupied(const App& app, std::string_view prefix) const;
  // The roster's users as a JSON array, or nullopt when the channel is empty.
  std::optional<std::string> users(const App& app, const std::string& channel) const;

 private:
  struct Record {
    size_t subscriptions = 0;
    uint64_t workers = 0;
    PresenceRoster roster;
    uint64_t version = 0;
    int64_t count_announced_ms = INT64_MIN / 2;  // long ago: the first count goes out at once
  };
  using Channels = std::map<std::string, Record>;  // ordered: prefix listing

  ChannelSnapshot snapshot_of(const std::string& channel, const Record& r) const;
  static void add(Record& r, size_t worker);
  static void remove(Record& r, size_t worker, size_t local_count);
  void erase_if_unused(Channels& channels, Channels::iterator it);
  // Reports a transition of `channel` (with the lock held).
  void notify(const App& app, WebhookType type, const std::string& channel, const std::string& user_id = {}) const;

  struct PatternRecord {
    size_t subscriptions = 0;
    uint64_t workers = 0;
  };
  struct Patterns {
    WildcardIndex index;
    std::unordered_map<std::string, PatternRecord> records;
  };

  WebhookSink* webhooks_ = nullptr;
  mutable std::mutex mutex_;
  std::map<const App*, Channels> apps_;
  std::map<const App*, Patterns> patterns_;
  std::atomic<size_t> pattern_count_{0};  // patterns with subscribers, all apps
  std::set<std::pair<const App*, std::string>> throttled_counts_;  // counts waiting for their period
};

}  // namespace raptor
