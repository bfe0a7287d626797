#include "core/presence_roster.h"

#include "protocol/channel_kind.h"
#include "protocol/json.h"

namespace raptor {

bool member_privileged(std::string_view channel, std::optional<bool> from_policy,
                       std::optional<bool> from_channel_data) {
  if (from_policy) return *from_policy;
  if (from_channel_data) return *from_channel_data;
  return channel_kind(channel).members_privileged;
}

bool PresenceRoster::add(const std::string& user_id, std::string user_info_json) {
  Member& m = members_[user_id];
  if (m.connections++ == 0) {
    m.info_json = std::move(user_info_json);
    return true;
  }
  return false;
}

bool PresenceRoster::remove(const std::string& user_id) {
  auto it = members_.find(user_id);
  if (it == members_.end()) return false;
  if (--it->second.connections > 0) return false;
  members_.erase(it);
  return true;
}

std::string PresenceRoster::to_json() const {
  std::string ids, hash;
  for (const auto& [id, member] : members_) {
    if (!ids.empty()) {
      ids += ',';
      hash += ',';
    }
    json::append_quoted(ids, id);
    json::append_quoted(hash, id);
    hash += ':';
    hash += member.info_json;
  }
  return "{\"presence\":{\"ids\":[" + ids + "],\"hash\":{" + hash + "},\"count\":" +
         std::to_string(members_.size()) + "}}";
}

std::string PresenceRoster::to_json_for(const std::string& user_id, bool sees_roster) const {
  if (sees_roster) return to_json();
  auto it = members_.find(user_id);
  if (it == members_.end()) return PresenceRoster().to_json();
  std::string id;
  json::append_quoted(id, user_id);
  return "{\"presence\":{\"ids\":[" + id + "],\"hash\":{" + id + ":" + it->second.info_json + "},\"count\":1}}";
}

std::optional<std::string> PresenceRoster::user_info(const std::string& user_id) const {
  auto it = members_.find(user_id);
  if (it == members_.end()) return std::nullopt;
  return it->second.info_json;
}

std::string PresenceRoster::users_json() const {
  std::string out = "[";
  for (const auto& entry : members_) {
    if (out.size() > 1) out += ',';
    out += "{\"id\":";
    json::append_quoted(out, entry.first);
    out += '}';
  }
  return out + "]";
}

}  // namespace raptor
