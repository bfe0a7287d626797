// The members one worker's subscribers of a presence channel have been shown: in the rosters
// they were given and the member events sent to them since. A member event that would tell them
// nothing new is not sent: a member_added for a user they see already. That happens when Redis
// re-adds a node's members after taking the node for dead (docs/cluster.md#network-faults): the
// node's own subscribers never heard them leave (they were cut off with it), and a member would
// otherwise hear member_added of herself.
// A user shown as gone is forgotten, so a long-lived channel's view holds its present members
// only. Single-threaded: the worker's loop.
#pragma once
#include <string>
#include <unordered_set>

namespace raptor {

class MemberView {
 public:
  // member_added of `user_id`: true when it is news to the subscribers (they do not see the user
  // yet), false for a duplicate.
  bool added(const std::string& user_id) { return users_.insert(user_id).second; }
  // member_removed of `user_id`.
  void removed(const std::string& user_id) { users_.erase(user_id); }

  bool shows(const std::string& user_id) const { return users_.count(user_id) != 0; }

 private:
  std::unordered_set<std::string> users_;
};

}  // namespace raptor
