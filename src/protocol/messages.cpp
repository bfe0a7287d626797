#include "protocol/messages.h"

namespace raptor::messages {
namespace {

// {"event":E,"channel":C,"data":  -- shared head of every channel-scoped frame.
std::string head(std::string_view event, std::string_view channel) {
  std::string out = "{\"event\":";
  json::append_quoted(out, event);
  if (!channel.empty()) {
    out += ",\"channel\":";
    json::append_quoted(out, channel);
  }
  out += ",\"data\":";
  return out;
}

// `frame` with its channel field (naming `from`) replaced by the JSON members `members`.
std::string replace_channel_field(std::string_view frame, std::string_view from, const std::string& members) {
  // Names and events are JSON-quoted, so this unescaped text only occurs as the field itself.
  std::string needle = "\"channel\":";
  json::append_quoted(needle, from);
  size_t at = frame.find(needle);
  if (at == std::string_view::npos) return std::string(frame);
  std::string out(frame.substr(0, at));
  out += members;
  out += frame.substr(at + needle.size());
  return out;
}

}  // namespace

bool parse_client_message(std::string_view text, ClientMessage& out) {
  out = ClientMessage();
  out.root = json::parse(text);
  if (!cJSON_IsObject(out.root.get())) return false;
  auto event = json::string_member(out.root.get(), "event");
  if (!event) return false;
  out.event = *event;
  out.channel = json::string_member(out.root.get(), "channel").value_or(std::string_view());
  const cJSON* data = cJSON_GetObjectItemCaseSensitive(out.root.get(), "data");
  if (!data) return true;
  out.data_text = json::raw_member(text, "data").value_or(std::string_view());
  out.data_is_object = cJSON_IsObject(data);
  out.data_channel = json::string_member(data, "channel");
  out.auth = json::string_member(data, "auth");
  out.channel_data = json::string_member(data, "channel_data");
  out.user_data = json::string_member(data, "user_data");
  return true;
}

std::string connection_established(std::string_view socket_id, int activity_timeout_s) {
  std::string data = "{\"socket_id\":";
  json::append_quoted(data, socket_id);
  data += ",\"activity_timeout\":" + std::to_string(activity_timeout_s) + "}";
  std::string out = head("pusher:connection_established", {});
  json::append_quoted(out, data);
  return out + "}";
}

std::string error(int code, std::string_view message) {
  std::string out = head("pusher:error", {});
  out += "{\"code\":" + std::to_string(code) + ",\"message\":";
  json::append_quoted(out, message);
  return out + "}}";
}

std::string ping() { return "{\"event\":\"pusher:ping\",\"data\":{}}"; }
std::string pong() { return "{\"event\":\"pusher:pong\",\"data\":{}}"; }

std::string subscription_succeeded(std::string_view channel, std::string_view data) {
  std::string out = head("pusher_internal:subscription_succeeded", channel);
  json::append_quoted(out, data);
  return out + "}";
}

std::string subscription_error(std::string_view channel, std::string_view type, std::string_view message,
                               int status, int code) {
  std::string out = head("pusher:subscription_error", channel);
  out += "{\"type\":";
  json::append_quoted(out, type);
  out += ",\"error\":";
  json::append_quoted(out, message);
  out += ",\"status\":" + std::to_string(status) + ",\"code\":" + std::to_string(code) + "}}";
  return out;
}

std::string member_added(std::string_view channel, std::string_view user_id, std::string_view user_info_json) {
  std::string data = "{\"user_id\":";
  json::append_quoted(data, user_id);
  data += ",\"user_info\":";
  data += user_info_json;
  data += "}";
  std::string out = head("pusher_internal:member_added", channel);
  json::append_quoted(out, data);
  return out + "}";
}

std::string member_removed(std::string_view channel, std::string_view user_id) {
  std::string data = "{\"user_id\":";
  json::append_quoted(data, user_id);
  data += "}";
  std::string out = head("pusher_internal:member_removed", channel);
  json::append_quoted(out, data);
  return out + "}";
}

std::optional<MemberEvent> parse_member_event(std::string_view frame) {
  json::Ptr root = json::parse(frame);
  auto event = json::string_member(root.get(), "event");
  if (!event || (*event != "pusher_internal:member_added" && *event != "pusher_internal:member_removed"))
    return std::nullopt;
  auto data_text = json::string_member(root.get(), "data");
  if (!data_text) return std::nullopt;
  json::Ptr data = json::parse(*data_text);
  auto user_id = json::string_member(data.get(), "user_id");
  if (!user_id) return std::nullopt;
  return MemberEvent{*event == "pusher_internal:member_added", std::string(*user_id)};
}

std::string channel_event_raw(std::string_view event, std::string_view channel, std::string_view data_json,
                              std::string_view user_id) {
  std::string out = head(event, channel);
  out += data_json;
  if (!user_id.empty()) {
    out += ",\"user_id\":";
    json::append_quoted(out, user_id);
  }
  return out + "}";
}

std::string channel_event(std::string_view event, std::string_view channel, std::string_view data) {
  std::string out = head(event, channel);
  json::append_quoted(out, data);
  return out + "}";
}

std::string signin_success(std::string_view user_data) {
  std::string out = head("pusher:signin_success", {});
  out += "{\"user_data\":";
  json::append_quoted(out, user_data);
  return out + "}}";
}

std::string watchlist_events(const std::vector<std::string>& online, const std::vector<std::string>& offline) {
  std::string out = head("pusher_internal:watchlist_events", {});
  out += "{\"events\":[";
  bool first = true;
  for (auto [name, ids] : {std::pair{"online", &online}, std::pair{"offline", &offline}}) {
    if (ids->empty()) continue;
    if (!first) out += ',';
    first = false;
    out += "{\"name\":\"" + std::string(name) + "\",\"user_ids\":[";
    for (size_t i = 0; i < ids->size(); ++i) {
      if (i) out += ',';
      json::append_quoted(out, (*ids)[i]);
    }
    out += "]}";
  }
  return out + "]}}";
}

std::string cache_miss(std::string_view channel) {
  std::string out = "{\"event\":\"pusher:cache_miss\",\"channel\":";
  json::append_quoted(out, channel);
  return out + "}";
}

std::string subscription_count_head(std::string_view channel) {
  return head("pusher_internal:subscription_count", channel) + "{\"subscription_count\":";
}

std::string subscription_count(std::string_view channel, size_t count) {
  return subscription_count_head(channel).append(std::to_string(count)).append(kSubscriptionCountTail);
}

std::string respell(std::string_view frame, std::string_view from, std::string_view to) {
  std::string field = "\"channel\":";
  json::append_quoted(field, to);
  return replace_channel_field(frame, from, field);
}

std::string for_pattern(std::string_view frame, std::string_view channel, std::string_view pattern,
                        std::string_view concrete) {
  std::string fields = "\"channel\":";
  json::append_quoted(fields, pattern);
  fields += ',';
  json::append_quoted(fields, kConcreteChannelField);
  fields += ':';
  json::append_quoted(fields, concrete);
  return replace_channel_field(frame, channel, fields);
}

}  // namespace raptor::messages
