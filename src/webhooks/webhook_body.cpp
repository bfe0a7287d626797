#include "webhooks/webhook_body.h"

#include <strings.h>

#include <algorithm>

#include "protocol/json.h"
#include "protocol/signature.h"

namespace raptor::webhook_body {
namespace {

void add(std::string& out, const char* name, std::string_view value) {
  out += ",\"";
  out += name;
  out += "\":";
  json::append_quoted(out, value);
}

// Pusher sends client event data as a string: a string the client sent as itself, anything else
// as its JSON text.
std::string data_string(const std::string& data_json) {
  if (data_json.empty() || data_json.front() != '"') return data_json;
  json::Ptr parsed = json::parse(data_json);
  return cJSON_IsString(parsed.get()) ? parsed->valuestring : data_json;
}

}  // namespace

std::string event_json(const WebhookEvent& e) {
  std::string out = "{\"name\":";
  json::append_quoted(out, webhook_type_name(e.type));
  add(out, "channel", e.channel);
  switch (e.type) {
    case WebhookType::MemberAdded:
    case WebhookType::MemberRemoved:
      add(out, "user_id", e.user_id);
      break;
    case WebhookType::ClientEvent:
      add(out, "event", e.event);
      add(out, "data", data_string(e.data));
      add(out, "socket_id", e.socket_id);
      if (!e.user_id.empty()) add(out, "user_id", e.user_id);
      break;
    case WebhookType::SubscriptionCount:
      out += ",\"subscription_count\":" + std::to_string(e.subscription_count);
      break;
    default:
      break;
  }
  return out + "}";
}

std::string body(int64_t time_ms, const std::vector<const std::string*>& events) {
  std::string out = "{\"time_ms\":" + std::to_string(time_ms) + ",\"events\":[";
  for (size_t i = 0; i < events.size(); ++i) {
    if (i) out += ',';
    out += *events[i];
  }
  return out + "]}";
}

Headers headers(const App& app, const WebhookEndpoint& endpoint, const std::string& body) {
  Headers h{{"Content-Type", "application/json"},
            {"X-Pusher-Key", app.key},
            {"X-Pusher-Signature", signature::hmac_sha256_hex(app.secret, body)}};
  h.insert(h.end(), endpoint.headers.begin(), endpoint.headers.end());
  bool own_agent = std::any_of(endpoint.headers.begin(), endpoint.headers.end(),
                               [](const auto& header) { return strcasecmp(header.first.c_str(), "User-Agent") == 0; });
  if (!own_agent) h.emplace_back("User-Agent", "raptor/" RAPTOR_VERSION);
  return h;
}

}  // namespace raptor::webhook_body
