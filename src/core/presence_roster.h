// Who is in a presence channel. Presence is per user, not per connection: a user with several
// tabs is one member, added on the first connection and removed after the last.
#pragma once
#include <map>
#include <string>
#include <string_view>

namespace raptor {

class PresenceRoster {
 public:
  // Counts one more connection of `user_id`; true when it is the user's first (member_added).
  bool add(const std::string& user_id, std::string user_info_json);
  // Counts one connection less; true when it was the user's last (member_removed).
  bool remove(const std::string& user_id);

  bool contains(const std::string& user_id) const { return members_.count(user_id) != 0; }
  size_t user_count() const { return members_.size(); }

  // {"presence":{"ids":[...],"hash":{id:info},"count":N}}, as subscription_succeeded carries it.
  std::string to_json() const;
  // [{"id":"1"},...], as the users endpoint returns it.
  std::string users_json() const;

 private:
  struct Member {
    std::string info_json;
    int connections = 0;
  };
  std::map<std::string, Member> members_;  // ordered: stable ids lists
};

}  // namespace raptor
