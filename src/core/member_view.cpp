#include "core/member_view.h"

#include <algorithm>
#include <unordered_set>

namespace raptor {

bool MemberView::added(const std::string& user_id, uint64_t version) {
  Seen& seen = users_[user_id];
  bool news = !seen.present;
  seen = Seen{true, std::max(seen.version, version)};
  return news;
}

void MemberView::removed(const std::string& user_id, uint64_t version) {
  Seen& seen = users_[user_id];
  seen = Seen{false, std::max(seen.version, version)};
}

void MemberView::roster(const std::vector<std::pair<std::string, std::string>>& members, uint64_t version) {
  std::unordered_set<std::string> in_roster;
  for (const auto& [user_id, info] : members) {
    in_roster.insert(user_id);
    Seen& seen = users_[user_id];
    if (seen.version <= version) seen = Seen{true, version};
  }
  for (auto& [user_id, seen] : users_)
    if (seen.present && seen.version < version && !in_roster.count(user_id)) seen = Seen{false, version};
}

bool MemberView::shows(const std::string& user_id) const {
  auto it = users_.find(user_id);
  return it != users_.end() && it->second.present;
}

}  // namespace raptor
