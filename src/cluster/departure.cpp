#include "cluster/departure.h"

#include "protocol/channel_name.h"

namespace raptor::cluster {

std::string vacated_member(std::string_view app_id, std::string_view channel) {
  return std::string("v\n").append(app_id).append(1, '\n').append(channel);
}

std::string member_removed_member(std::string_view app_id, std::string_view channel, std::string_view user_id) {
  return std::string("m\n").append(app_id).append(1, '\n').append(channel).append(1, '\n').append(user_id);
}

std::optional<Departure> parse_departure(std::string_view member) {
  if (member.size() < 2 || member[1] != '\n' || (member[0] != 'v' && member[0] != 'm')) return std::nullopt;
  Departure d;
  d.type = member[0] == 'v' ? WebhookType::ChannelVacated : WebhookType::MemberRemoved;
  std::string_view rest = member.substr(2);
  size_t app_end = rest.find('\n');
  if (app_end == std::string_view::npos || app_end == 0) return std::nullopt;
  d.app_id = rest.substr(0, app_end);
  rest.remove_prefix(app_end + 1);
  if (d.type == WebhookType::MemberRemoved) {
    size_t channel_end = rest.find('\n');
    if (channel_end == std::string_view::npos) return std::nullopt;
    d.user_id = rest.substr(channel_end + 1);
    if (d.user_id.empty()) return std::nullopt;
    rest = rest.substr(0, channel_end);
  }
  d.channel = rest;
  if (!is_valid_channel_name(d.channel)) return std::nullopt;
  return d;
}

}  // namespace raptor::cluster
