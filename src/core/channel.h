// A channel of one app as one worker sees it: the worker's own subscribers. Exists while it has
// at least one. What is app-wide (counts, presence rosters) lives in the ChannelDirectory.
#pragma once
#include <string>
#include <unordered_set>

#include "protocol/channel_name.h"

namespace raptor {

class Connection;

class Channel {
 public:
  explicit Channel(std::string name) : name_(std::move(name)), type_(channel_type(name_)) {}

  const std::string& name() const { return name_; }
  bool is_presence() const { return type_ == ChannelType::Presence; }

  void add(Connection* c) { subscribers_.insert(c); }
  void remove(Connection* c) { subscribers_.erase(c); }
  bool empty() const { return subscribers_.empty(); }
  size_t subscription_count() const { return subscribers_.size(); }
  const std::unordered_set<Connection*>& subscribers() const { return subscribers_; }

 private:
  std::string name_;
  ChannelType type_;
  std::unordered_set<Connection*> subscribers_;
};

}  // namespace raptor
