#include "core/member_view.h"

#include <algorithm>

namespace raptor {

bool MemberView::added(const std::string& user_id, uint64_t version) {
  newest_event_ = std::max(newest_event_, version);
  auto [it, first] = users_.try_emplace(user_id, kAnnounced);
  if (first) return true;
  uint64_t in_roster = it->second;
  it->second = kAnnounced;
  // Known from a roster only: her arrival (numbered up to that roster) is news to subscribers
  // given older ones; a later number re-adds her.
  return in_roster != kAnnounced && version <= in_roster;
}

void MemberView::removed(const std::string& user_id, uint64_t version) {
  newest_event_ = std::max(newest_event_, version);
  users_.erase(user_id);
}

}  // namespace raptor
