// The Pusher protocol 7 wire format: parsing client frames and building server frames.
// Builders return the exact bytes to send; fan-out builds a frame once and shares it.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/json.h"

namespace raptor {

// Pusher's limit on an event's name, from the API or from a client.
constexpr size_t kMaxEventNameLength = 200;

}  // namespace raptor

namespace raptor::messages {

// A client frame: a JSON object with a string `event`, optional `channel` and `data`.
struct ClientMessage {
  json::Ptr root;  // owns what the views below see
  std::string_view event;
  std::string_view channel;    // empty when absent
  std::string_view data_text;  // `data` exactly as sent; empty when absent
  bool data_is_object = false;
  // The string members of `data` that pusher:subscribe, pusher:unsubscribe and pusher:signin
  // read (nullopt: absent, or not a string). Auth strings are checked against these as sent.
  std::optional<std::string_view> data_channel, auth, channel_data, user_data;
};

// False when `text` is not a JSON object with a string `event`.
// `out` refers into `text`, which must outlive it.
bool parse_client_message(std::string_view text, ClientMessage& out);

std::string connection_established(std::string_view socket_id, int activity_timeout_s);
std::string error(int code, std::string_view message);
std::string ping();
std::string pong();
// `data` is the JSON text to double-encode as the frame's data string.
std::string subscription_succeeded(std::string_view channel, std::string_view data);
std::string subscription_error(std::string_view channel, std::string_view type, std::string_view message,
                               int status, int code);
std::string member_added(std::string_view channel, std::string_view user_id, std::string_view user_info_json);
std::string member_removed(std::string_view channel, std::string_view user_id);
// What a member_added / member_removed frame (as built above) says; nullopt for any other frame.
struct MemberEvent {
  bool added = false;
  std::string user_id;
};
std::optional<MemberEvent> parse_member_event(std::string_view frame);
// A channel event whose data is already JSON text (client events keep what the client sent).
std::string channel_event_raw(std::string_view event, std::string_view channel, std::string_view data_json,
                              std::string_view user_id = {});
// pusher:signin_success: data {"user_data":"<the user_data string as signed>"}.
std::string signin_success(std::string_view user_data);
// pusher_internal:watchlist_events with one entry per non-empty list, as pusher-js reads it:
// data {"events":[{"name":"online","user_ids":[…]},{"name":"offline","user_ids":[…]}]}.
std::string watchlist_events(const std::vector<std::string>& online, const std::vector<std::string>& offline);
// pusher:cache_miss on a cache channel that has no event to replay.
std::string cache_miss(std::string_view channel);
// pusher_internal:subscription_count: data {"subscription_count":N}.
std::string subscription_count(std::string_view channel, size_t count);
// The same frame in two parts around the count, for Redis to put its sum between (cluster).
std::string subscription_count_head(std::string_view channel);
constexpr std::string_view kSubscriptionCountTail = "}}";

// `frame` (one of the above) with its channel field `from` spelled `to` instead: the same event
// for a client that subscribed by another spelling of the channel (a URL resource).
std::string respell(std::string_view frame, std::string_view from, std::string_view to);
// The field that names the concrete channel of an event delivered to a wildcard subscription.
constexpr std::string_view kConcreteChannelField = "concrete_channel";
// A channel event `frame` on `channel` as a wildcard subscription receives it: its channel field
// is `pattern` (as subscribed), followed by "concrete_channel": `concrete` (the channel, spelled
// as the pattern was: by name or by address).
std::string for_pattern(std::string_view frame, std::string_view channel, std::string_view pattern,
                        std::string_view concrete);
// A channel event from the HTTP API: the data string is passed through verbatim.
std::string channel_event(std::string_view event, std::string_view channel, std::string_view data);

}  // namespace raptor::messages
