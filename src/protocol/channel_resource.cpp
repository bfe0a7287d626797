#include "protocol/channel_resource.h"

#include "common/text.h"
#include "protocol/channel_kind.h"
#include "protocol/channel_name.h"
#include "protocol/channel_pattern.h"  // is_wildcard_pattern

namespace raptor {
namespace {

bool is_segment_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '=' || c == '@' || c == ',' || c == ';';
}

ChannelResource refuse(int status, std::string why) { return {"", status, std::move(why)}; }

}  // namespace

ChannelResource channel_from_resource(std::string_view path, bool patterns) {
  if (!starts_with(path, kChannelResourceRoot)) return refuse(404, "Channel addresses begin with /channels/");
  std::vector<std::string_view> parts = split_at(path.substr(kChannelResourceRoot.size()), '/');
  const ChannelKind* type = nullptr;
  std::string known;  // the types there are, for the refusal
  for (const ChannelKind& kind : kChannelKinds) {
    if (kind.resource.empty()) continue;
    if (parts[0] == kind.resource) type = &kind;
    known += (known.empty() ? "" : ", ") + std::string(kind.resource);
  }
  if (!type) return refuse(404, "Unknown channel type '" + std::string(parts[0]) + "': use " + known);
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
  // The name must be of the address's kind, not of a longer prefix's (private-encrypted-…,
  // presence-privileged-…), or the mapping would not be reversible.
  const ChannelKind& named = channel_kind(name);
  if (&named != type) {
    if (type->prefix.empty())
      return refuse(400, "A public channel's first segment may not begin with a reserved prefix (" +
                             std::string(named.prefix) + ")");
    return refuse(400, "A " + std::string(type->resource) + " channel's first segment may not begin with '" +
                           std::string(named.prefix.substr(type->prefix.size())) + "'");
  }
  if (name.size() > kMaxChannelNameLength)
    return refuse(400, "The channel name would be longer than " + std::to_string(kMaxChannelNameLength) + " characters");
  return {std::move(name), 0, ""};
}

std::optional<std::string> resource_of_channel(std::string_view name) {
  const ChannelKind& kind = channel_kind(name);
  if (kind.resource.empty() || !(is_valid_channel_name(name) || is_wildcard_pattern(name))) return std::nullopt;
  std::string path(kChannelResourceRoot);
  path += kind.resource;
  for (std::string_view seg : split_at(name.substr(kind.prefix.size()), '.')) {
    if (seg.empty()) return std::nullopt;
    path += '/';
    path += seg;
  }
  return path;
}

}  // namespace raptor
