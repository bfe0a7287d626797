// The members one worker's subscribers of a presence channel have been shown: in the rosters
// they were given and the member events sent to them since. A member event that would tell them
// nothing new is not sent: a member_added for a user they see already. That happens when Redis
// re-adds a node's members after taking the node for dead (docs/cluster.md#network-faults): the
// node's own subscribers never heard them leave (they were cut off with it), and a member would
// otherwise hear member_added of herself.
//
// Member events are numbered (ChannelDirectory or Redis); a roster is the truth as of its number,
// so it overrides what is older and leaves what is newer. Users shown as gone keep their number
// (a tombstone) so that an older roster does not bring them back. Single-threaded: the worker's loop.
#pragma once
#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace raptor {

class MemberView {
 public:
  // member_added of `user_id`, number `version`: true when it is news to the subscribers (they do
  // not see the user yet), false for a duplicate.
  bool added(const std::string& user_id, uint64_t version);
  // member_removed of `user_id`.
  void removed(const std::string& user_id, uint64_t version);
  // A roster given to a subscriber: `members` (id, info) as of `version`.
  void roster(const std::vector<std::pair<std::string, std::string>>& members, uint64_t version);

  bool shows(const std::string& user_id) const;

 private:
  struct Seen {
    bool present = false;
    uint64_t version = 0;
  };
  std::unordered_map<std::string, Seen> users_;
};

}  // namespace raptor
