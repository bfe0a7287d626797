#include "http/channel_info.h"

#include "protocol/channel_kind.h"

namespace raptor::http {

InfoRequest parse_info(std::string_view info) {
  InfoRequest r;
  while (!info.empty()) {
    size_t comma = info.find(',');
    std::string_view item = info.substr(0, comma);
    if (item == "user_count") r.user_count = true;
    if (item == "subscription_count") r.subscription_count = true;
    if (item == "cache") r.cache = true;
    if (comma == std::string_view::npos) break;
    info.remove_prefix(comma + 1);
  }
  return r;
}

std::string attributes_json(const ChannelSnapshot& snap, const InfoRequest& info) {
  std::string out = "{";
  auto add = [&out](const char* key, size_t value) {
    if (out.size() > 1) out += ',';
    out += "\"" + std::string(key) + "\":" + std::to_string(value);
  };
  if (info.user_count && snap.presence) add("user_count", snap.user_count);
  if (info.subscription_count) add("subscription_count", snap.subscription_count);
  return out + "}";
}

std::string attributes_json(const ChannelCounts& counts, const InfoRequest& info) {
  ChannelSnapshot snap;
  snap.presence = channel_type(counts.name) == ChannelType::Presence;
  snap.subscription_count = counts.subscription_count;
  snap.user_count = counts.user_count;
  return attributes_json(snap, info);
}

}  // namespace raptor::http
