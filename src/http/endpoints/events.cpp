#include "http/endpoints/events.h"

#include <algorithm>
#include <optional>
#include <string>

#include "http/validation.h"
#include "metrics/counters.h"
#include "protocol/json.h"
#include "protocol/messages.h"

namespace raptor::http {
namespace {

// The app's publish rate (docs/security.md#limits): `events` more now, or 429 with Retry-After.
// Taken after the signature and the body were checked, so that neither a forger nor a rejected
// request uses the app's allowance.
std::optional<Response> refuse_publish_rate(const AppCall& call, size_t events) {
  const App& app = call.app;
  uint32_t rate = app.api_events_per_second ? app.api_events_per_second : call.engine.limits().api_events_per_second;
  uint32_t burst = std::max<uint32_t>(rate, kMaxBatchEvents);
  int64_t wait_ms = app.api_events.take(call.engine.now_ms(), rate, burst, uint32_t(events));
  if (wait_ms == 0) return std::nullopt;
  metrics::count(app, metrics::AppCount::ApiEventsRefused, events);
  std::string seconds = std::to_string((wait_ms + 999) / 1000);
  Response r = error(429, "Over the app's limit of " + std::to_string(rate) + " events a second: retry after " +
                              seconds + " s");
  r.headers.emplace_back("Retry-After", seconds);
  return r;
}

}  // namespace

void publish_events(const AppCall& call, const Respond& respond) {
  auto body = json::parse(call.req.body);
  if (!body) return respond(error(400, "Body is not valid JSON"));
  EventRequest ev;
  if (auto err = read_event(call.app, body.get(), false, ev)) return respond(*err);
  if (auto refusal = refuse_publish_rate(call, 1)) return respond(*refusal);
  for (const auto& ch : ev.channels) call.engine.publish(call.app, ch, ev.name, ev.data, ev.socket_id);
  if (!ev.wants_info) return respond({});
  std::string out = "{\"channels\":{";
  for (size_t i = 0; i < ev.channels.size(); ++i) {
    if (i) out += ',';
    json::append_quoted(out, ev.channels[i]);
    out += ':' + attributes_json(call.engine.directory().snapshot(call.app, ev.channels[i]), ev.info);
  }
  respond({200, out + "}}"});
}

void publish_batch(const AppCall& call, const Respond& respond) {
  auto body = json::parse(call.req.body);
  if (!body) return respond(error(400, "Body is not valid JSON"));
  const cJSON* batch = cJSON_GetObjectItemCaseSensitive(body.get(), "batch");
  if (!cJSON_IsArray(batch)) return respond(error(400, "batch (an array of events) is required"));
  if (static_cast<size_t>(cJSON_GetArraySize(batch)) > kMaxBatchEvents)
    return respond(error(400, "At most 10 events per batch"));
  std::vector<EventRequest> events;
  bool any_info = false;
  const cJSON* item;
  cJSON_ArrayForEach(item, batch) {  // validate all before publishing any
    events.emplace_back();
    if (auto err = read_event(call.app, item, true, events.back())) return respond(*err);
    any_info |= events.back().wants_info;
  }
  if (auto refusal = refuse_publish_rate(call, events.size())) return respond(*refusal);
  for (const auto& ev : events) call.engine.publish(call.app, ev.channels[0], ev.name, ev.data, ev.socket_id);
  if (!any_info) return respond({});
  std::string out = "{\"batch\":[";
  for (size_t i = 0; i < events.size(); ++i) {
    if (i) out += ',';
    out += attributes_json(call.engine.directory().snapshot(call.app, events[i].channels[0]), events[i].info);
  }
  respond({200, out + "]}"});
}

void publish_to_channel(const AppCall& call, const Respond& respond) {
  const Request& req = call.req;
  if (auto refusal = refuse_channel_name(call.name)) return respond(*refusal);
  const std::string* name = req.param("name");
  if (!name || name->empty() || name->size() > kMaxEventNameLength)
    return respond(error(400, "name (a query parameter) is required: a string of 1 to 200 characters"));
  if (auto refusal = refuse_data_size(call.app, req.body.size())) return respond(*refusal);
  if (!json::valid_utf8(req.body)) return respond(error(400, "data must be UTF-8 text"));
  const std::string* socket_id = req.param("socket_id");
  if (socket_id)
    if (auto refusal = refuse_socket_id(*socket_id)) return respond(*refusal);
  if (auto refusal = refuse_publish_rate(call, 1)) return respond(*refusal);
  call.engine.publish(call.app, call.name, *name, req.body, socket_id ? *socket_id : "");
  respond({202, "{}"});
}

void publish_to_resource(const AppCall& call, const Respond& respond) {
  auto body = json::parse(call.req.body);
  if (!cJSON_IsObject(body.get())) return respond(error(400, "Body must be a JSON object with name and data"));
  if (cJSON_HasObjectItem(body.get(), "channel") || cJSON_HasObjectItem(body.get(), "channels"))
    return respond(error(400, "The channel is the address: leave channel and channels out of the body"));
  cJSON_AddStringToObject(body.get(), "channel", call.name.c_str());
  EventRequest ev;
  if (auto err = read_event(call.app, body.get(), true, ev)) return respond(*err);
  if (auto refusal = refuse_publish_rate(call, 1)) return respond(*refusal);
  call.engine.publish(call.app, call.name, ev.name, ev.data, ev.socket_id);
  if (!ev.wants_info) return respond({});
  respond({200, attributes_json(call.engine.directory().snapshot(call.app, call.name), ev.info)});
}

}  // namespace raptor::http
