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

bool is_valid_channel_name(std::string_view name, bool allow_internal) {
  if (name.size() > kMaxChannelNameLength) return false;
  if (starts_with(name, kServerToUserPrefix))
    return allow_internal && is_valid_user_id(name.substr(kServerToUserPrefix.size()));
  return all_name_chars(name);
}

bool is_valid_user_id(std::string_view id) { return all_name_chars(id); }

}  // namespace raptor
