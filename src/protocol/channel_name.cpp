#include "protocol/channel_name.h"

#include "common/text.h"

namespace raptor {
namespace {

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '=' || c == '@' || c == ',' || c == '.' || c == ';';
}

bool all_name_chars(std::string_view s) {
  for (char c : s)
    if (!is_name_char(c)) return false;
  return !s.empty();
}

}  // namespace

ChannelType channel_type(std::string_view name) {
  if (starts_with(name, "private-encrypted-")) return ChannelType::Encrypted;
  if (starts_with(name, "private-")) return ChannelType::Private;
  if (starts_with(name, "presence-")) return ChannelType::Presence;
  if (starts_with(name, kServerToUserPrefix)) return ChannelType::ServerToUser;
  return ChannelType::Public;
}

std::string_view channel_type_prefix(std::string_view name) {
  switch (channel_type(name)) {
    case ChannelType::Encrypted: return "private-encrypted-";
    case ChannelType::Private: return "private-";
    case ChannelType::Presence: return "presence-";
    case ChannelType::ServerToUser: return kServerToUserPrefix;
    case ChannelType::Public: return "";
  }
  return "";
}

bool is_valid_channel_name(std::string_view name, bool allow_internal) {
  if (name.size() > kMaxChannelNameLength) return false;
  if (starts_with(name, kServerToUserPrefix))
    return allow_internal && is_valid_user_id(name.substr(kServerToUserPrefix.size()));
  return all_name_chars(name);
}

bool is_valid_user_id(std::string_view id) { return all_name_chars(id); }

bool is_cache_channel(std::string_view name) {
  for (std::string_view prefix : {"cache-", "private-cache-", "presence-cache-", "private-encrypted-cache-"})
    if (starts_with(name, prefix)) return true;
  return false;
}

}  // namespace raptor
