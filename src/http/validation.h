// Every check the HTTP API makes of what it is sent, in one place: the method, the query's form,
// the names in the path, the event objects of the body. Each refusal is an HTTP status with a
// JSON body ({"error":...}); nullopt means the input passed.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/app.h"
#include "http/channel_info.h"
#include "http/request.h"

typedef struct cJSON cJSON;

namespace raptor::http {

// Whether a request with `method` may go where `allowed` is asked for: HEAD goes where GET does
// (net/ sends its answer without the body).
bool allows(std::string_view allowed, const std::string& method);
// 405 with the Allow field RFC 9110 asks for; `methods` as "GET" or "GET, POST".
Response not_allowed(std::string methods);
// 400 naming the parameter of the query that is not in the form it must have (query_form.h);
// `endpoint_params` are those the endpoint reads beyond the signature's.
std::optional<Response> refuse_query(const Request& req, const std::vector<std::string_view>& endpoint_params);

std::optional<Response> refuse_channel_name(const std::string& name);
std::optional<Response> refuse_socket_id(std::string_view socket_id);
std::optional<Response> refuse_user_id(const App& app, const std::string& user_id);
std::optional<Response> refuse_data_size(const App& app, size_t bytes);

// One event to publish, validated.
struct EventRequest {
  std::string name;
  std::string data;
  std::vector<std::string> channels;
  std::string socket_id;
  InfoRequest info;
  bool wants_info = false;
};

// Validates an event object of a body (`single_channel`: "channel" only, as in a batch); fills
// `out` or returns the refusal.
std::optional<Response> read_event(const App& app, const cJSON* obj, bool single_channel, EventRequest& out);

}  // namespace raptor::http
