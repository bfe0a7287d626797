// The channels one connection is subscribed to. A short list searched linearly: clients hold a
// handful of channels, and a hash map would cost ~200 bytes per connection before the first.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
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

class SubscriptionList {
 public:
  bool empty() const { return items_.empty(); }
  size_t size() const { return items_.size(); }

  Subscription* find(std::string_view channel) {
    for (auto& item : items_)
      if (item.first == channel) return &item.second;
    return nullptr;
  }
  bool contains(std::string_view channel) const {
    return const_cast<SubscriptionList*>(this)->find(channel) != nullptr;
  }
  void add(std::string channel, Subscription s) { items_.emplace_back(std::move(channel), std::move(s)); }
  // Removes `channel`'s subscription and returns it (a default one when there was none).
  Subscription remove(std::string_view channel) {
    for (auto& item : items_) {
      if (item.first != channel) continue;
      Subscription out = std::move(item.second);
      item = std::move(items_.back());
      items_.pop_back();
      return out;
    }
    return {};
  }
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
  std::vector<std::pair<std::string, Subscription>> items_;
};

}  // namespace raptor
