// A channel of one app: its subscribers and, for presence channels, its roster.
// Exists while it has at least one subscriber.
#pragma once
#include <string>
#include <unordered_set>

#include "core/presence_roster.h"
#include "protocol/channel_name.h"

namespace raptor {

class Connection;

class Channel {
 public:
  explicit Channel(std::string name) : name_(std::move(name)), type_(channel_type(name_)) {}

  const std::string& name() const { return name_; }
  ChannelType type() const { return type_; }
  bool is_presence() const { return type_ == ChannelType::Presence; }

  void add(Connection* c) { subscribers_.insert(c); }
  void remove(Connection* c) { subscribers_.erase(c); }
  bool empty() const { return subscribers_.empty(); }
  size_t subscription_count() const { return subscribers_.size(); }
  const std::unordered_set<Connection*>& subscribers() const { return subscribers_; }

  PresenceRoster& roster() { return roster_; }
  const PresenceRoster& roster() const { return roster_; }

 private:
  std::string name_;
  ChannelType type_;
  std::unordered_set<Connection*> subscribers_;
  PresenceRoster roster_;
};

}  // namespace raptor
