// What travels between nodes through Redis pub/sub, and the Redis channel names it travels on.
// Plain C++ (no hiredis), unit-tested.
//
// Channels (docs/cluster.md has the whole key layout):
//   {prefix}ch:{app id}:{channel}      events of a Pusher channel
//   {prefix}user:{app id}:{user id}    events to a user, and terminating a user's connections
//   {prefix}node:{node id}             this node's own channel
// and a wildcard pattern's subscribers listen with PSUBSCRIBE to the glob pattern_glob() makes.
// A message is "{kind}{origin node id}\n{except socket id}\n{frame}", kind E (channel event),
// U (user event) or T (terminate the user's connections, no frame). The origin lets the node
// that published ignore its own message: it delivered the event itself.
// A presence member event, published by Redis itself (the presence script), is
// "M{origin}\n{except socket id}\n{number}\n{frame}": a channel event that every node delivers,
// the origin too, numbered in the order Redis decided the changes.
// A subscription_count event, published by Redis itself (the count script, with the cluster's
// sum in the frame), is "C{origin}\n\n{frame}": a channel event every node delivers, the origin too.
//
// Presence keys, per channel ({p} is "{prefix}presence:{app id}:{channel}"):
//   {p}             hash: user id -> how many nodes have connections of the user
//   {p}:info        hash: user id -> user_info JSON
//   {p}:version     the number of the last member change
//   {p}:node:{node} hash: user id -> that node's connections of the user
//
// Occupancy and webhook keys (docs/cluster.md#occupancy-and-webhooks):
//   {prefix}occupancy:{app id}:{channel}  hash: node id -> that node's subscriptions of the channel
//   {prefix}channels:{app id}             set: the app's occupied channels
//   {prefix}node:{node}:held              set: the keys holding this node's contribution
//   {prefix}departures                    sorted set: departure webhooks held (departure.h)
//
// Node leases (node_lease.h, docs/cluster.md#node-leases):
//   {prefix}nodes                         sorted set: node id -> its lease's expiry (ms, Redis TIME)
//   {prefix}node:{node}:lease             the node's current lease: when it was made (µs, Redis TIME)
//   {prefix}cleaning                      sorted set: dead node id -> when its cleaner's claim expires (ms)
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "core/hub.h"

namespace raptor::cluster {

std::string channel_key(std::string_view prefix, std::string_view app_id, std::string_view channel);
std::string user_key(std::string_view prefix, std::string_view app_id, std::string_view user_id);
std::string node_key(std::string_view prefix, std::string_view node_id);

std::string presence_key(std::string_view prefix, std::string_view app_id, std::string_view channel);
std::string occupancy_key(std::string_view prefix, std::string_view app_id, std::string_view channel);
std::string channels_key(std::string_view prefix, std::string_view app_id);
std::string held_key(std::string_view prefix, std::string_view node_id);
std::string nodes_key(std::string_view prefix);
std::string lease_key(std::string_view prefix, std::string_view node_id);
std::string cleaning_key(std::string_view prefix);
std::string departures_key(std::string_view prefix);
// The glob a worker PSUBSCRIBEs to for a wildcard pattern's channels: the channel key with the
// prefix and app id escaped (they may hold the glob's * ? [ ] \), each `*` segment as `?*` and a
// `**` as `?**`. Redis has no glob for "one segment" (its * also matches dots), so the glob
// matches the key of every channel the pattern matches and more (a.?* matches a.b.c): the
// receiver checks each message with pattern_matches. Distinct patterns give distinct globs, so
// each pattern is one PSUBSCRIBE and Redis sends one pmessage per publish for it.
std::string pattern_glob(std::string_view prefix, std::string_view app_id, std::string_view pattern);
// The channel a Redis channel name names when it is `{prefix}ch:{app id}:{channel}` with a valid
// channel name, else nullopt (a glob also matches other apps' keys whose ids begin alike, but
// what those leave after the app id holds a ':', which no channel name has).
std::optional<std::string_view> channel_of_key(std::string_view prefix, std::string_view app_id, std::string_view key);

struct ClusterMessage {
  Delivery::Kind kind = Delivery::Kind::ChannelEvent;
  std::string_view origin;  // node id
  std::string_view except_socket_id;
  std::string_view text;  // the frame; empty for TerminateUser
  uint64_t version = 0;   // a member event's number (kind M); 0 for the others
  bool from_redis = false;  // published by a script in Redis (M, C): the origin delivers it too
};

// The start of a member event message, to which the presence script appends "{number}\n{frame}".
std::string member_message_head(std::string_view origin, std::string_view except_socket_id);

// The start of a subscription_count message, to which the count script appends the sum and
// kSubscriptionCountTail.
std::string count_message_head(std::string_view origin, std::string_view channel);

// Only ChannelEvent, UserEvent and TerminateUser travel.
std::string encode(Delivery::Kind kind, std::string_view origin, std::string_view except_socket_id,
                   std::string_view text);
// Views into `payload`; nullopt when it is not a message of this format.
std::optional<ClusterMessage> decode(std::string_view payload);

}  // namespace raptor::cluster
