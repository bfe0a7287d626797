// Who is in a presence channel. Presence is per user, not per connection: a user with several
// tabs is one member, added on the first connection and removed after the last.
//
// Every member is in the roster, but only privileged subscriptions see it (docs/channels.md): a
// subscription that is not privileged is given a roster of its own member alone and no member
// events. Privilege belongs to a subscription, not to a user, so two tabs of one user may differ.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace raptor {

// Whether a presence subscription is privileged, before any raptor.rb roster rule: the policy's
// answer when it gave one, else the signed channel_data's "privileged" when it is a boolean, else
// true on presence- channels and false on presence-privileged- ones.
bool member_privileged(std::string_view channel, std::optional<bool> from_policy,
                       std::optional<bool> from_channel_data);

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
  // What subscription_succeeded carries for a subscription of `user_id` (a member): the whole
  // roster when it sees the roster, else that member alone, with its user_info, so that
  // pusher-js's channel.members, which needs its own member in the hash, shows only itself.
  std::string to_json_for(const std::string& user_id, bool sees_roster) const;
  // The member's user_info JSON, or nullopt when it is not in the roster.
  std::optional<std::string> user_info(const std::string& user_id) const;
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
