// Pusher's webhook wire format: each event as a JSON object, the body
// {"time_ms":…,"events":[…]}, and the headers that sign it (reference §4).
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/app.h"
#include "core/webhook_sink.h"

namespace raptor::webhook_body {

using Headers = std::vector<std::pair<std::string, std::string>>;

// {"name":"channel_occupied","channel":"c"} and the like, with the fields of its type.
std::string event_json(const WebhookEvent& e);
// The POST body around events already formatted by event_json().
std::string body(int64_t time_ms, const std::vector<const std::string*>& events);
// Content-Type (exactly application/json: the Node SDK's validator insists), X-Pusher-Key and
// X-Pusher-Signature (hex HMAC-SHA256 of the body with the app secret), then the endpoint's own,
// then User-Agent unless the endpoint sets its own.
Headers headers(const App& app, const WebhookEndpoint& endpoint, const std::string& body);

}  // namespace raptor::webhook_body
