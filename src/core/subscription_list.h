// The channels (and wildcard patterns) one connection is subscribed to. Used on the engine's
// thread only.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/frame.h"

namespace raptor {

// One channel a connection is subscribed to.
struct Subscription {
  std::string user_id;          // presence channels: the member this connection counts for
  uint64_t roster_version = 0;  // presence channels: the roster this connection was given
  bool by_address = false;      // subscribed as /channels/…: its frames name the channel so
  // Presence channels: sees the roster and member events, may send client events (see
  // core/presence_roster.h).
  bool privileged = true;
  // Presence in a cluster (docs/cluster.md#presence): counted in Redis; and, while
  // `awaiting_roster`, waiting for Redis's roster (request number `roster_request`) before
  // subscription_succeeded, with what arrived meanwhile held back (member events with their number).
  bool in_cluster = false;
  // The node's lease in Redis under which this subscription was counted (ClusterBus::kNoLease:
  // not counted), and whether a join or re-assert of it is on its way (docs/cluster.md#node-leases).
  uint64_t cluster_lease = 0;
  bool counting = false;
  bool awaiting_roster = false;
  uint64_t roster_request = 0;
  std::vector<std::pair<uint64_t, FramePtr>> held{};
};

// Subscriptions are kept in a vector, and from kIndexFrom of them on also indexed by channel:
// a hash map costs ~200 bytes before its first entry, and most connections hold a handful of
// channels, but searching the list on every subscribe and leave made 10,000 subscriptions
// quadratic (0.9 s to leave them all on close, docs/performance.md). Each call is O(1) with the
// index, so closing a connection costs O(subscriptions). Pointers returned by find() are valid
// until the next add() or remove().
class SubscriptionList {
 public:
  static constexpr size_t kIndexFrom = 16;

  bool empty() const { return items_.empty(); }
  size_t size() const { return items_.size(); }
  // How many of them are wildcard patterns (see core/fan_out.h).
  size_t patterns() const { return patterns_; }

  Subscription* find(std::string_view channel) {
    size_t at = position(channel);
    return at == kNone ? nullptr : &items_[at].second;
  }
  bool contains(std::string_view channel) const { return position(channel) != kNone; }
  void add(std::string channel, Subscription s);
  // Removes `channel`'s subscription and returns it (a default one when there was none).
  Subscription remove(std::string_view channel);
  // The last one added (of those left): what a connection that closes leaves first.
  const std::string& any_channel() const { return items_.back().first; }
  template <typename Visit>  // Visit(const std::string& channel, const Subscription&)
  void for_each(Visit visit) const {
    for (const auto& item : items_) visit(item.first, item.second);
  }
  template <typename Visit>  // Visit(const std::string& channel, Subscription&)
  void for_each_mutable(Visit visit) {
    for (auto& item : items_) visit(item.first, item.second);
  }

 private:
  static constexpr size_t kNone = SIZE_MAX;
  size_t position(std::string_view channel) const;

  std::vector<std::pair<std::string, Subscription>> items_;
  // Channel -> position in items_, once there are kIndexFrom; keys are copies of the names,
  // since moving an item (a short name lives inside its std::string) moves its characters.
  std::unique_ptr<std::unordered_map<std::string, size_t>> index_;
  size_t patterns_ = 0;
};

}  // namespace raptor
