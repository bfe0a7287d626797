#include "cluster/cluster_message.h"

#include "common/text.h"
#include "protocol/channel_name.h"
#include "protocol/messages.h"

namespace raptor::cluster {
namespace {

constexpr std::string_view kChannelKind = "ch:";

// `text` matched literally by a Redis glob.
void append_escaped(std::string& glob, std::string_view text) {
  for (char c : text) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') glob += '\\';
    glob += c;
  }
}

std::string key(std::string_view prefix, std::string_view kind, std::string_view app_id, std::string_view name) {
  std::string k;
  k.reserve(prefix.size() + kind.size() + app_id.size() + name.size() + 1);
  k.append(prefix).append(kind).append(app_id).append(1, ':').append(name);
  return k;
}

// Moves a member event's "{number}\n" from the front of its text into its version (1 or more).
bool take_version(ClusterMessage& m) {
  size_t end = m.text.find('\n');
  if (end == std::string_view::npos || end == 0 || end > 19) return false;
  uint64_t v = 0;
  for (char ch : m.text.substr(0, end)) {
    if (ch < '0' || ch > '9') return false;
    v = v * 10 + uint64_t(ch - '0');
  }
  if (v == 0) return false;
  m.version = v;
  m.text = m.text.substr(end + 1);
  return true;
}

}  // namespace

std::string channel_key(std::string_view prefix, std::string_view app_id, std::string_view channel) {
  return key(prefix, kChannelKind, app_id, channel);
}

std::string pattern_glob(std::string_view prefix, std::string_view app_id, std::string_view pattern) {
  std::string glob;
  glob.reserve(prefix.size() + app_id.size() + pattern.size() + 16);
  append_escaped(glob, prefix);
  glob += kChannelKind;
  append_escaped(glob, app_id);
  glob += ':';
  // The type prefix (private-) is literal; a wildcard is a whole segment (is_wildcard_pattern).
  std::string_view type = channel_type_prefix(pattern);
  append_escaped(glob, type);
  std::string_view dot;
  for (std::string_view seg : split_at(pattern.substr(type.size()), '.')) {
    glob += dot;
    dot = ".";
    if (seg == "*")
      glob += "?*";
    else if (seg == "**")
      glob += "?**";
    else
      append_escaped(glob, seg);
  }
  return glob;
}

std::optional<std::string_view> channel_of_key(std::string_view prefix, std::string_view app_id, std::string_view key) {
  std::string head = channel_key(prefix, app_id, {});
  if (key.substr(0, head.size()) != head) return std::nullopt;
  std::string_view channel = key.substr(head.size());
  if (!is_valid_channel_name(channel)) return std::nullopt;
  return channel;
}

std::string user_key(std::string_view prefix, std::string_view app_id, std::string_view user_id) {
  return key(prefix, "user:", app_id, user_id);
}

std::string node_key(std::string_view prefix, std::string_view node_id) {
  return std::string(prefix).append("node:").append(node_id);
}

std::string presence_key(std::string_view prefix, std::string_view app_id, std::string_view channel) {
  return key(prefix, "presence:", app_id, channel);
}

std::string occupancy_key(std::string_view prefix, std::string_view app_id, std::string_view channel) {
  return key(prefix, "occupancy:", app_id, channel);
}

std::string channels_key(std::string_view prefix, std::string_view app_id) {
  return std::string(prefix).append("channels:").append(app_id);
}

std::string nodes_key(std::string_view prefix) { return std::string(prefix).append("nodes"); }

std::string lease_key(std::string_view prefix, std::string_view node_id) {
  return node_key(prefix, node_id).append(":lease");
}

std::string held_key(std::string_view prefix, std::string_view node_id) {
  return node_key(prefix, node_id).append(":held");
}

std::string cleaning_key(std::string_view prefix) { return std::string(prefix).append("cleaning"); }

std::string departures_key(std::string_view prefix) { return std::string(prefix).append("departures"); }

std::string member_message_head(std::string_view origin, std::string_view except_socket_id) {
  return std::string("M").append(origin).append(1, '\n').append(except_socket_id).append(1, '\n');
}

std::string count_message_head(std::string_view origin, std::string_view channel) {
  return std::string("C").append(origin).append("\n\n").append(messages::subscription_count_head(channel));
}

std::string encode(Delivery::Kind kind, std::string_view origin, std::string_view except_socket_id,
                   std::string_view text) {
  char tag = kind == Delivery::Kind::UserEvent ? 'U' : kind == Delivery::Kind::TerminateUser ? 'T' : 'E';
  std::string m;
  m.reserve(origin.size() + except_socket_id.size() + text.size() + 3);
  m.append(1, tag).append(origin).append(1, '\n').append(except_socket_id).append(1, '\n').append(text);
  return m;
}

std::optional<ClusterMessage> decode(std::string_view payload) {
  if (payload.empty()) return std::nullopt;
  ClusterMessage m;
  switch (payload[0]) {
    case 'E': m.kind = Delivery::Kind::ChannelEvent; break;
    case 'U': m.kind = Delivery::Kind::UserEvent; break;
    case 'T': m.kind = Delivery::Kind::TerminateUser; break;
    case 'M':
    case 'C':
      m.kind = Delivery::Kind::ChannelEvent;
      m.from_redis = true;
      break;
    default: return std::nullopt;
  }
  size_t first = payload.find('\n', 1);
  if (first == std::string_view::npos || first == 1) return std::nullopt;
  size_t second = payload.find('\n', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  m.origin = payload.substr(1, first - 1);
  m.except_socket_id = payload.substr(first + 1, second - first - 1);
  m.text = payload.substr(second + 1);
  if (payload[0] == 'M' && !take_version(m)) return std::nullopt;
  if (m.kind != Delivery::Kind::TerminateUser && m.text.empty()) return std::nullopt;
  return m;
}

}  // namespace raptor::cluster
