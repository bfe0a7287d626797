// A channel of one app as one worker sees it: the worker's own subscribers. Exists while it has
// at least one. What is app-wide (counts, presence rosters) lives in the ChannelDirectory.
#pragma once
#include <string>
#include <unordered_set>

#include "core/member_view.h"
#include "protocol/channel_name.h"

namespace raptor {

class Connection;

class Channel {
 public:
  explicit Channel(std::string name) : name_(std::move(name)), type_(channel_type(name_)) {}

  const std::string& name() const { return name_; }
  bool is_presence() const { return type_ == ChannelType::Presence; }

  void add(Connection* c, bool by_address) {
    subscribers_.insert(c);
    by_address_ += by_address;
  }
  void remove(Connection* c, bool by_address) {
    subscribers_.erase(c);
    by_address_ -= by_address;
  }
  // Subscribers that subscribed by the channel's URL resource and get frames spelled so.
  size_t by_address() const { return by_address_; }
  bool empty() const { return subscribers_.empty(); }
  size_t subscription_count() const { return subscribers_.size(); }
  const std::unordered_set<Connection*>& subscribers() const { return subscribers_; }
  // Subscribers still waiting for the cluster's roster (see Subscription::awaiting_roster): while
  // there are any, deliveries look at each subscription.
  size_t awaiting() const { return awaiting_; }
  void awaiting_changed(int delta) { awaiting_ += delta; }
  // Presence channels: the members this worker's subscribers have been shown.
  MemberView& members_shown() { return members_shown_; }

 private:
  std::string name_;
  ChannelType type_;
  std::unordered_set<Connection*> subscribers_;
  size_t by_address_ = 0;
  size_t awaiting_ = 0;
  MemberView members_shown_;
};

}  // namespace raptor
