#include "protocol/channel_pattern.h"

#include <vector>

#include "common/text.h"
#include "protocol/channel_kind.h"
#include "protocol/channel_name.h"

namespace raptor {

std::optional<std::string> wildcard_pattern_error(std::string_view pattern) {
  if (pattern.size() > kMaxChannelNameLength)
    return "A wildcard pattern may not exceed " + std::to_string(kMaxChannelNameLength) + " characters";
  const ChannelKind& kind = channel_kind(pattern);
  if (kind.patterns == Patterns::None) return std::string(kind.no_patterns);
  std::string_view prefix = kind.pattern_prefix;
  std::vector<std::string_view> segs = split_at(pattern.substr(prefix.size()), '.');
  if (segs.size() > kMaxPatternSegments)
    return "A wildcard pattern may have at most " + std::to_string(kMaxPatternSegments) + " segments";
  bool wild = false;
  for (size_t i = 0; i < segs.size(); ++i) {
    std::string_view seg = segs[i];
    if (seg == "*" || seg == "**") {
      if (seg == "**" && i + 1 != segs.size()) return std::string("'**' may only be the last segment of a pattern");
      wild = true;
    } else if (names_pattern(seg)) {
      return "Segment '" + std::string(seg) + "': a wildcard is a whole segment, '*' (one segment) or '**' (one or more)";
    } else if (seg.empty()) {
      return "Empty segment " + std::to_string(i + 1) + " in the pattern";
    } else if (!is_valid_channel_name(seg)) {
      return "Segment '" + std::string(seg) + "' has a character outside A-Z a-z 0-9 _ - = @ , ;";
    }
  }
  if (!wild) return std::string("A wildcard pattern needs a '*' or '**' segment");
  return std::nullopt;
}

bool pattern_matches(std::string_view pattern, std::string_view channel) {
  std::string_view prefix = channel_type_prefix(pattern);
  if (channel_type_prefix(channel) != prefix) return false;  // a pattern matches its own type only
  std::vector<std::string_view> wanted = split_at(pattern.substr(prefix.size()), '.');
  std::vector<std::string_view> segs = split_at(channel.substr(prefix.size()), '.');
  for (std::string_view seg : segs)
    if (seg.empty()) return false;  // no pattern matches a channel with an empty segment
  for (size_t i = 0; i < wanted.size(); ++i) {
    if (wanted[i] == "**") return segs.size() > i;  // last: one or more segments left
    if (i == segs.size() || (wanted[i] != "*" && wanted[i] != segs[i])) return false;
  }
  return segs.size() == wanted.size();
}

}  // namespace raptor
