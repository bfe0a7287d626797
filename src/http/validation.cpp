#include "http/validation.h"

#include "http/api.h"
#include "http/query_form.h"
#include "protocol/channel_name.h"
#include "protocol/json.h"
#include "protocol/messages.h"
#include "protocol/socket_id.h"

namespace raptor::http {

Response error(int status, std::string_view message) {
  std::string body = "{\"error\":";
  json::append_quoted(body, message);
  return {status, body + "}"};
}

bool allows(std::string_view allowed, const std::string& method) {
  return method == allowed || (allowed == "GET" && method == "HEAD");
}

Response not_allowed(std::string methods) {
  if (methods.compare(0, 3, "GET") == 0) methods.insert(3, ", HEAD");
  Response r = error(405, "Use " + methods);
  r.headers.emplace_back("Allow", methods);
  return r;
}

std::optional<Response> refuse_query(const Request& req, const std::vector<std::string_view>& endpoint_params) {
  auto fault = check_query_form(req, endpoint_params);
  if (!fault) return std::nullopt;
  std::string body = "{\"error\":";
  json::append_quoted(body, fault->message);
  body += ",\"parameter\":";
  json::append_quoted(body, fault->parameter);
  return Response{400, body + "}"};
}

std::optional<Response> refuse_channel_name(const std::string& name) {
  if (is_valid_channel_name(name, true)) return std::nullopt;
  return error(400, "Invalid channel name");
}

std::optional<Response> refuse_socket_id(std::string_view socket_id) {
  if (is_valid_socket_id(socket_id)) return std::nullopt;
  return error(400, "socket_id must look like 123.456");
}

std::optional<Response> refuse_user_id(const App& app, const std::string& user_id) {
  if (user_id.size() <= app.max_user_id_length && is_valid_user_id(user_id)) return std::nullopt;
  return error(400, "Invalid user id: 1 to " + std::to_string(app.max_user_id_length) + " of A-Z a-z 0-9 _ - = @ , . ;");
}

std::optional<Response> refuse_data_size(const App& app, size_t bytes) {
  if (bytes <= app.max_event_data_bytes) return std::nullopt;
  return error(413, "data is larger than " + std::to_string(app.max_event_data_bytes) + " bytes");
}

std::optional<Response> read_event(const App& app, const cJSON* obj, bool single_channel, EventRequest& out) {
  if (!cJSON_IsObject(obj)) return error(400, "Each event must be a JSON object");
  auto name = json::string_member(obj, "name");
  if (!name || name->empty() || name->size() > kMaxEventNameLength)
    return error(400, "name is required: a string of 1 to 200 characters");
  out.name = *name;

  const cJSON* data = cJSON_GetObjectItemCaseSensitive(obj, "data");
  if (!data) return error(400, "data is required");
  out.data = cJSON_IsString(data) ? std::string(data->valuestring) : json::print(data);
  if (auto refusal = refuse_data_size(app, out.data.size())) return refusal;

  const cJSON* channels = cJSON_GetObjectItemCaseSensitive(obj, "channels");
  const cJSON* channel = cJSON_GetObjectItemCaseSensitive(obj, "channel");
  if (cJSON_IsString(channel)) {
    out.channels.emplace_back(channel->valuestring);
  } else if (!single_channel && cJSON_IsArray(channels)) {
    const cJSON* item;
    cJSON_ArrayForEach(item, channels) {
      if (!cJSON_IsString(item)) return error(400, "channels must be an array of strings");
      out.channels.emplace_back(item->valuestring);
    }
  }
  if (out.channels.empty())
    return error(400, single_channel ? "channel is required" : "channels (an array) or channel is required");
  if (out.channels.size() > kMaxChannelsPerEvent) return error(400, "At most 100 channels per event");
  for (const auto& ch : out.channels)
    if (!is_valid_channel_name(ch, true)) return error(400, "Invalid channel name: " + ch);

  if (auto socket_id = json::string_member(obj, "socket_id")) {
    if (auto refusal = refuse_socket_id(*socket_id)) return refusal;
    out.socket_id = *socket_id;
  }
  if (auto info = json::string_member(obj, "info")) {
    out.info = parse_info(*info);
    out.wants_info = true;
  }
  return std::nullopt;
}

}  // namespace raptor::http
