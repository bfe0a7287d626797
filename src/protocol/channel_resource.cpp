#include "protocol/channel_resource.h"

#include "common/text.h"
#include "protocol/channel_name.h"
#include "protocol/channel_pattern.h"  // is_wildcard_pattern

namespace raptor {
namespace {

struct ResourceType {
  std::string_view type;    // the path segment
  std::string_view prefix;  // the name's prefix
  // A name of this type must not continue with this, or it would be a channel of another type
  // (private-encrypted-…, presence-privileged-…) and the mapping would not be reversible.
  std::string_view not_followed_by;
};

// Longest prefix first: resource_of_channel takes the first that matches.
constexpr ResourceType kTypes[] = {
    {"privileged", kPrivilegedPrefix, ""},
    {"presence", "presence-", "privileged-"},
    {"private", "private-", "encrypted-"},
    {"public", "", ""},
};

bool is_segment_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '=' || c == '@' || c == ',' || c == ';';
}

ChannelResource refuse(int status, std::string why) { return {"", status, std::move(why)}; }

}  // namespace

ChannelResource channel_from_resource(std::string_view path, bool patterns) {
  if (!starts_with(path, kChannelResourceRoot)) return refuse(404, "Channel addresses begin with /channels/");
  std::vector<std::string_view> parts = split_at(path.substr(kChannelResourceRoot.size()), '/');
  const ResourceType* type = nullptr;
  for (const auto& t : kTypes)
    if (parts[0] == t.type) type = &t;
  if (!type) return refuse(404, "Unknown channel type '" + std::string(parts[0]) + "': use public, private, presence or privileged");
  if (parts.size() < 2) return refuse(400, "A channel address needs at least one segment after the type");
  std::string name(type->prefix);
  for (size_t i = 1; i < parts.size(); ++i) {
    std::string_view seg = parts[i];
    if (seg.empty()) return refuse(400, "Empty segment " + std::to_string(i) + " in the channel address");
    for (char c : seg)
      if (!is_segment_char(c) && !(patterns && c == '*'))
        return refuse(400, "Segment '" + std::string(seg) + "' has a character outside A-Z a-z 0-9 _ - = @ , ;");
    if (i > 1) name += '.';
    name += seg;
  }
  std::string_view rest = std::string_view(name).substr(type->prefix.size());
  if (!type->not_followed_by.empty() && starts_with(rest, type->not_followed_by))
    return refuse(400, "A " + std::string(type->type) + " channel's first segment may not begin with '" +
                           std::string(type->not_followed_by) + "'");
  if (type->prefix.empty() && channel_type(name) != ChannelType::Public)
    return refuse(400, "A public channel's first segment may not begin with a reserved prefix (private-, presence-)");
  if (name.size() > kMaxChannelNameLength)
    return refuse(400, "The channel name would be longer than " + std::to_string(kMaxChannelNameLength) + " characters");
  return {std::move(name), 0, ""};
}

std::optional<std::string> resource_of_channel(std::string_view name) {
  ChannelType kind = channel_type(name);
  if (kind == ChannelType::Encrypted || kind == ChannelType::ServerToUser ||
      !(is_valid_channel_name(name) || is_wildcard_pattern(name)))
    return std::nullopt;
  for (const auto& t : kTypes) {
    if (!starts_with(name, t.prefix)) continue;
    std::string path(kChannelResourceRoot);
    path += t.type;
    for (std::string_view seg : split_at(name.substr(t.prefix.size()), '.')) {
      if (seg.empty()) return std::nullopt;
      path += '/';
      path += seg;
    }
    return path;
  }
  return std::nullopt;
}

}  // namespace raptor
