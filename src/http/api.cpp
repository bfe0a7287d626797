// The route table of the HTTP API. To add an endpoint under /apps/{id}: a row in kAppRoutes
// (path, method, the query parameters it reads) and its function in the endpoints/ file of its
// resource family; its checks go in validation.h. docs/architecture.md#adding-an-endpoint.
#include "http/api.h"

#include <string_view>
#include <vector>

#include "http/endpoints/channel_resources.h"
#include "http/endpoints/channels.h"
#include "http/endpoints/endpoint.h"
#include "http/endpoints/events.h"
#include "http/endpoints/health.h"
#include "http/endpoints/users.h"
#include "http/operator_pages.h"
#include "http/readiness.h"
#include "http/request_auth.h"
#include "http/validation.h"
#include "protocol/channel_resource.h"

namespace raptor::http {
namespace {

// An endpoint under /apps/{id}. `path` is what follows /apps/{id}; a "{name}" in it stands for one
// non-empty segment (a channel name or a user id), handed to the endpoint as AppCall::name.
// `query`: the parameters it reads beyond the signature's (all else it reads is in the body,
// which body_md5 covers); any other is refused (query_form.h).
struct AppRoute {
  std::string_view path;
  const char* method;
  std::vector<std::string_view> query;
  Endpoint endpoint;
};

const AppRoute kAppRoutes[] = {
    {"/events", "POST", {}, publish_events},
    {"/batch_events", "POST", {}, publish_batch},
    {"/channels", "GET", {"filter_by_prefix", "info"}, list_channels},
    {"/channels/{name}", "GET", {"info"}, show_channel},
    {"/channels/{name}/users", "GET", {}, channel_users},
    {"/channels/{name}/events", "POST", {"name", "socket_id"}, publish_to_channel},  // the deprecated one
    {"/users/{name}/terminate_connections", "POST", {}, terminate_connections},
};

// Whether `rest` is the route's path, with the segment that stands for {name} in `name`.
bool matches(std::string_view pattern, const std::string& rest, std::string& name) {
  constexpr std::string_view kName = "{name}";
  size_t at = pattern.find(kName);
  if (at == std::string_view::npos) return rest == pattern;
  std::string_view before = pattern.substr(0, at), after = pattern.substr(at + kName.size());
  if (rest.size() <= before.size() + after.size()) return false;  // {name} is never empty
  if (rest.compare(0, before.size(), before) != 0) return false;
  if (rest.compare(rest.size() - after.size(), after.size(), after) != 0) return false;
  std::string segment = rest.substr(before.size(), rest.size() - before.size() - after.size());
  if (segment.find('/') != std::string::npos) return false;
  name = std::move(segment);
  return true;
}

// /apps/{id}/...: the app id and the rest of the path, e.g. "/events".
bool split_app_path(const std::string& path, std::string& app_id, std::string& rest) {
  constexpr std::string_view kPrefix = "/apps/";
  if (path.compare(0, kPrefix.size(), kPrefix) != 0) return false;
  size_t slash = path.find('/', kPrefix.size());
  app_id = path.substr(kPrefix.size(), slash == std::string::npos ? std::string::npos : slash - kPrefix.size());
  rest = slash == std::string::npos ? "" : path.substr(slash);
  return true;
}

void route_app(Engine& engine, const App& app, const Request& req, const std::string& rest, const Respond& respond) {
  std::string name;
  for (const AppRoute& route : kAppRoutes) {
    if (!matches(route.path, rest, name)) continue;
    if (!allows(route.method, req.method)) return respond(not_allowed(route.method));
    if (auto refusal = refuse_query(req, route.query)) return respond(*refusal);
    return route.endpoint(AppCall{engine, app, req, name}, respond);
  }
  respond(error(404, "Unknown path"));
}

}  // namespace

void handle(Engine& engine, const Request& req, int64_t now_s, const Respond& respond) {
  // No CORS: the API is for servers, which sign with the app's secret; browsers never call it.
  if (req.method == "OPTIONS") return respond(Response{204, "", {{"Allow", "GET, HEAD, POST, OPTIONS"}}});
  if (serve_operator_page(engine, req, now_s, respond)) return;
  if (req.path == "/health")
    return respond(allows("GET", req.method) ? health(engine, req, now_s) : not_allowed("GET"));
  if (req.path == "/health/live") return respond(allows("GET", req.method) ? liveness() : not_allowed("GET"));
  if (auto refusal = refuse_until_ready(engine)) return respond(*refusal);
  if (req.path.compare(0, kChannelResourceRoot.size(), kChannelResourceRoot) == 0)
    return route_resource(engine, req, now_s, respond);
  std::string app_id, rest;
  if (!split_app_path(req.path, app_id, rest)) return respond(error(404, "Unknown path"));
  const App* app = engine.app_by_id(app_id);
  if (!app) return respond(error(404, "Unknown app id"));
  if (auto why = verify_request(*app, req, now_s)) return respond(error(401, *why));
  route_app(engine, *app, req, rest, respond);
}

}  // namespace raptor::http
