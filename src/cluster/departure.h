// A departure webhook held in Redis (docs/cluster.md#occupancy-and-webhooks): a member of the
// sorted set {prefix}departures, scored by when it is due. The script that decides a channel's
// last subscription in the cluster (or a user's last connection to a presence channel) adds it;
// an arrival anywhere within the delay removes it, and then neither webhook is sent; the
// sweeper of some node takes it once due and sends it. Plain C++, unit-tested.
//
//   v\n{app id}\n{channel}            channel_vacated
//   m\n{app id}\n{channel}\n{user id}  member_removed
//
// Channel names hold no newline; a user id may (it is last, so it is taken whole), and an app id
// should not: one that does is read up to its first newline and so not found (logged, dropped).
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "core/webhook_sink.h"

namespace raptor::cluster {

struct Departure {
  WebhookType type = WebhookType::ChannelVacated;  // or MemberRemoved
  std::string_view app_id;
  std::string_view channel;
  std::string_view user_id;  // member_removed only
};

std::string vacated_member(std::string_view app_id, std::string_view channel);
std::string member_removed_member(std::string_view app_id, std::string_view channel, std::string_view user_id);
// Views into `member`; nullopt when it is not a departure of this format (with a valid channel name).
std::optional<Departure> parse_departure(std::string_view member);

}  // namespace raptor::cluster
