// The members one worker's subscribers of a presence channel have been shown: in the rosters
// they were given and the member events sent to them since. A member event that would tell them
// nothing new is not sent: a member_added for a user they see already. That happens when Redis
// re-adds a node's members after losing them (it restarted empty, or took the node for dead:
// docs/cluster.md#failures): subscribers who never heard the user leave would otherwise hear
// member_added again, a member even of herself.
//
// In a cluster, member events and rosters carry Redis's version numbers, and the events reach a
// node in the order of their numbers. A user in a roster of version R was there at R: a later
// member_added of her (above R, no member_removed between) re-adds her, while one numbered R or
// below is her own arrival still on its way, news to subscribers given older rosters. A roster
// older than the newest event already seen may hold a user who has left since, so it teaches
// nothing. A user shown as gone is forgotten, so a long-lived channel's view holds its present
// members only. Single-threaded: the worker's loop.
#pragma once
#include <cstdint>
#include <string>
#include <unordered_map>

namespace raptor {

class MemberView {
 public:
  // member_added of `user_id`, numbered `version`: true when it is news to the subscribers (they
  // do not see the user yet), false for a duplicate.
  bool added(const std::string& user_id, uint64_t version);
  // member_removed of `user_id`, numbered `version`.
  void removed(const std::string& user_id, uint64_t version);
  // A roster of version `version` given to a subscriber (0: not from the cluster, which teaches
  // nothing); `users` iterates pairs whose first is a user id.
  template <typename Users>
  void given_roster(const Users& users, uint64_t version) {
    if (version == 0 || version < newest_event_) return;
    for (const auto& user : users) users_.try_emplace(user.first, version);
  }

  bool shows(const std::string& user_id) const { return users_.count(user_id) != 0; }

 private:
  static constexpr uint64_t kAnnounced = 0;
  // Per user shown: kAnnounced once a member_added of her went out (every subscriber since has
  // her in its roster or was sent it), else the oldest roster version known to hold her.
  std::unordered_map<std::string, uint64_t> users_;
  uint64_t newest_event_ = 0;
};

}  // namespace raptor
