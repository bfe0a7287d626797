#include "http/api.h"

#include <algorithm>
#include <optional>

#include "http/operator_pages.h"
#include "http/query_form.h"
#include "http/request_auth.h"
#include "metrics/health.h"
#include "protocol/channel_name.h"
#include "protocol/channel_resource.h"
#include "protocol/json.h"
#include "protocol/socket_id.h"

namespace raptor::http {
namespace {

struct Route {
  std::string app_id;
  std::string rest;  // the path after /apps/{id}, e.g. "/events"
};

std::optional<Route> parse_app_path(const std::string& path) {
  constexpr std::string_view kPrefix = "/apps/";
  if (path.compare(0, kPrefix.size(), kPrefix) != 0) return std::nullopt;
  size_t slash = path.find('/', kPrefix.size());
  if (slash == std::string::npos) return Route{path.substr(kPrefix.size()), ""};
  return Route{path.substr(kPrefix.size(), slash - kPrefix.size()), path.substr(slash)};
}

// Which optional attributes an `info` parameter asks for.
struct InfoRequest {
  bool user_count = false;
  bool subscription_count = false;
  bool cache = false;  // GET /channels/{name} only
};

InfoRequest parse_info(std::string_view info) {
  InfoRequest r;
  while (!info.empty()) {
    size_t comma = info.find(',');
    std::string_view item = info.substr(0, comma);
    if (item == "user_count") r.user_count = true;
    if (item == "subscription_count") r.subscription_count = true;
    if (item == "cache") r.cache = true;
    if (comma == std::string_view::npos) break;
    info.remove_prefix(comma + 1);
  }
  return r;
}

// The attributes object of one channel, e.g. {"user_count":2,"subscription_count":3}.
std::string attributes_json(const ChannelSnapshot& snap, const InfoRequest& info) {
  std::string out = "{";
  auto add = [&out](const char* key, size_t value) {
    if (out.size() > 1) out += ',';
    out += "\"" + std::string(key) + "\":" + std::to_string(value);
  };
  if (info.user_count && snap.presence) add("user_count", snap.user_count);
  if (info.subscription_count) add("subscription_count", snap.subscription_count);
  return out + "}";
}

// One event to publish, validated.
struct EventRequest {
  std::string name;
  std::string data;
  std::vector<std::string> channels;
  std::string socket_id;
  InfoRequest info;
  bool wants_info = false;
};

// Validates an event object; fills `out` or returns the error response.
std::optional<Response> read_event(const App& app, const cJSON* obj, bool single_channel, EventRequest& out) {
  if (!cJSON_IsObject(obj)) return error(400, "Each event must be a JSON object");
  auto name = json::string_member(obj, "name");
  if (!name || name->empty() || name->size() > kMaxEventNameLength)
    return error(400, "name is required: a string of 1 to 200 characters");
  out.name = *name;

  const cJSON* data = cJSON_GetObjectItemCaseSensitive(obj, "data");
  if (!data) return error(400, "data is required");
  out.data = cJSON_IsString(data) ? std::string(data->valuestring) : json::print(data);
  if (out.data.size() > app.max_event_data_bytes)
    return error(413, "data is larger than " + std::to_string(app.max_event_data_bytes) + " bytes");

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
    if (!is_valid_socket_id(*socket_id)) return error(400, "socket_id must look like 123.456");
    out.socket_id = *socket_id;
  }
  if (auto info = json::string_member(obj, "info")) {
    out.info = parse_info(*info);
    out.wants_info = true;
  }
  return std::nullopt;
}

json::Ptr parse_body(const Request& req) { return json::parse(req.body); }

Response publish_events(Engine& engine, const App& app, const Request& req) {
  auto body = parse_body(req);
  if (!body) return error(400, "Body is not valid JSON");
  EventRequest ev;
  if (auto err = read_event(app, body.get(), false, ev)) return *err;
  for (const auto& ch : ev.channels) engine.publish(app, ch, ev.name, ev.data, ev.socket_id);
  if (!ev.wants_info) return {};
  std::string out = "{\"channels\":{";
  for (size_t i = 0; i < ev.channels.size(); ++i) {
    if (i) out += ',';
    json::append_quoted(out, ev.channels[i]);
    out += ':' + attributes_json(engine.directory().snapshot(app, ev.channels[i]), ev.info);
  }
  return {200, out + "}}"};
}

Response publish_batch(Engine& engine, const App& app, const Request& req) {
  auto body = parse_body(req);
  if (!body) return error(400, "Body is not valid JSON");
  const cJSON* batch = cJSON_GetObjectItemCaseSensitive(body.get(), "batch");
  if (!cJSON_IsArray(batch)) return error(400, "batch (an array of events) is required");
  if (static_cast<size_t>(cJSON_GetArraySize(batch)) > kMaxBatchEvents) return error(400, "At most 10 events per batch");
  std::vector<EventRequest> events;
  bool any_info = false;
  const cJSON* item;
  cJSON_ArrayForEach(item, batch) {  // validate all before publishing any
    events.emplace_back();
    if (auto err = read_event(app, item, true, events.back())) return *err;
    any_info |= events.back().wants_info;
  }
  for (const auto& ev : events) engine.publish(app, ev.channels[0], ev.name, ev.data, ev.socket_id);
  if (!any_info) return {};
  std::string out = "{\"batch\":[";
  for (size_t i = 0; i < events.size(); ++i) {
    if (i) out += ',';
    out += attributes_json(engine.directory().snapshot(app, events[i].channels[0]), events[i].info);
  }
  return {200, out + "]}"};
}

// --- channel reads: answered by the cluster (Redis) on a node of one, else by this node ---

// A validated channel read: what to ask, and how to answer.
struct ChannelRead {
  enum class Shape { List, Channel, Users, Resource };
  Shape shape;
  ChannelQuery query;
  InfoRequest info;
};

// The attributes object of one channel from its counts.
std::string attributes_json(const ChannelCounts& counts, const InfoRequest& info) {
  ChannelSnapshot snap;
  snap.presence = channel_type(counts.name) == ChannelType::Presence;
  snap.subscription_count = counts.subscription_count;
  snap.user_count = counts.user_count;
  return attributes_json(snap, info);
}

ChannelCounts counts_of(std::string name, const ChannelSnapshot& snap) {
  return {std::move(name), snap.subscription_count, snap.user_count};
}

// This node's own view, in the cluster's shape (its users come as JSON: see answer()).
ChannelState node_state(const Engine& engine, const App& app, const ChannelQuery& query) {
  ChannelState state;
  if (query.kind == ChannelQuery::Kind::List) {
    for (const auto& [name, snap] : engine.directory().occupied(app, query.name))
      state.channels.push_back(counts_of(name, snap));
  } else if (query.kind == ChannelQuery::Kind::Channel) {
    state.channels.push_back(counts_of(query.name, engine.directory().snapshot(app, query.name)));
  }
  return state;
}

std::string users_json(const std::vector<std::string>& users) {
  std::string out = "[";
  for (const std::string& id : users) {
    if (out.size() > 1) out += ',';
    out += "{\"id\":";
    json::append_quoted(out, id);
    out += '}';
  }
  return out + "]";
}

// "cache":{"data":…,"ttl":seconds left}, or null when nothing is cached.
std::string cache_json(const Engine& engine, const App& app, const std::string& channel) {
  auto cached = engine.cached_event(app, channel);
  if (!cached) return "null";
  std::string out = "{\"data\":";
  json::append_quoted(out, cached->data);
  return out + ",\"ttl\":" + std::to_string(cached->ttl_s) + "}";
}

// The answer to `read` from `state`; `node_users` is this node's roster JSON when the state is
// this node's (the directory keeps it as JSON).
Response answer(const Engine& engine, const App& app, const ChannelRead& read, const ChannelState& state,
                const std::optional<std::string>& node_users = std::nullopt) {
  const std::string& name = read.query.name;
  switch (read.shape) {
    case ChannelRead::Shape::List: {
      std::string out = "{\"channels\":{";
      for (size_t i = 0; i < state.channels.size(); ++i) {
        if (i) out += ',';
        json::append_quoted(out, state.channels[i].name);
        out += ':' + attributes_json(state.channels[i], read.info);
      }
      Response r{200, out + "}}"};
      if (state.truncated) r.headers.emplace_back(kTruncatedHeader, "true");
      return r;
    }
    case ChannelRead::Shape::Users:
      return {200, "{\"users\":" + (node_users ? *node_users : users_json(state.users)) + "}"};
    case ChannelRead::Shape::Channel:
    case ChannelRead::Shape::Resource:
      break;
  }
  ChannelCounts counts = state.channels.empty() ? ChannelCounts{name} : state.channels.front();
  bool occupied = counts.subscription_count > 0 || counts.user_count > 0;
  std::string out = std::string("{\"occupied\":") + (occupied ? "true" : "false");
  if (read.shape == ChannelRead::Shape::Resource) {  // all the counts there are
    out += ",\"subscription_count\":" + std::to_string(counts.subscription_count);
    if (channel_type(name) == ChannelType::Presence) out += ",\"user_count\":" + std::to_string(counts.user_count);
    return {200, out + "}"};
  }
  std::string attrs = attributes_json(counts, read.info);
  if (attrs.size() > 2) out += "," + attrs.substr(1, attrs.size() - 2);
  if (read.info.cache) out += ",\"cache\":" + cache_json(engine, app, name);  // kept per node
  return {200, out + "}"};
}

Response answer_from_node(const Engine& engine, const App& app, const ChannelRead& read) {
  std::optional<std::string> users;
  if (read.shape == ChannelRead::Shape::Users) users = engine.directory().users(app, read.query.name).value_or("[]");
  return answer(engine, app, read, node_state(engine, app, read.query), users);
}

Response scoped(Response r, const char* scope) {
  r.headers.emplace_back(kScopeHeader, scope);
  return r;
}

// Answers `read`: alone, from this node at once; in a cluster, from Redis once it answers, or
// from this node (and saying so) when Redis is unreachable or too slow.
void answer_read(const Engine& engine, const App& app, ChannelRead read, const Respond& respond) {
  ClusterBus* cluster = engine.cluster();
  if (!cluster) return respond(answer_from_node(engine, app, read));
  if (!cluster->reads_ready()) return respond(scoped(answer_from_node(engine, app, read), kScopeNode));
  ChannelQuery query = read.query;
  cluster->read_channel_state(app, query, [&engine, &app, read = std::move(read), respond](const ChannelState* state) {
    respond(state ? scoped(answer(engine, app, read, *state), kScopeCluster)
                  : scoped(answer_from_node(engine, app, read), kScopeNode));
  });
}

void list_channels(const Engine& engine, const App& app, const Request& req, const Respond& respond) {
  const std::string* prefix = req.param("filter_by_prefix");
  const std::string* info_param = req.param("info");
  InfoRequest info = info_param ? parse_info(*info_param) : InfoRequest{};
  if (info.user_count && (!prefix || channel_type(*prefix) != ChannelType::Presence))
    return respond(error(400, "info=user_count requires filter_by_prefix=presence-"));
  ChannelQuery query{ChannelQuery::Kind::List, prefix ? *prefix : "", info.subscription_count, info.user_count};
  answer_read(engine, app, {ChannelRead::Shape::List, std::move(query), info}, respond);
}

void show_channel(const Engine& engine, const App& app, const std::string& name, const Request& req,
                  const Respond& respond) {
  if (!is_valid_channel_name(name, true)) return respond(error(400, "Invalid channel name"));
  const std::string* info_param = req.param("info");
  InfoRequest info = info_param ? parse_info(*info_param) : InfoRequest{};
  if (info.user_count && channel_type(name) != ChannelType::Presence)
    return respond(error(400, "user_count is only available for presence channels"));
  if (info.cache && !is_cache_channel(name)) return respond(error(400, "cache is only available for cache channels"));
  answer_read(engine, app, {ChannelRead::Shape::Channel, {ChannelQuery::Kind::Channel, name}, info}, respond);
}

// The deprecated POST /apps/{id}/channels/{name}/events: name and socket_id in the query, the
// raw data as the body; 202 as Pusher answered it.
Response publish_to_channel(Engine& engine, const App& app, const std::string& channel, const Request& req) {
  if (!is_valid_channel_name(channel, true)) return error(400, "Invalid channel name");
  const std::string* name = req.param("name");
  if (!name || name->empty() || name->size() > kMaxEventNameLength)
    return error(400, "name (a query parameter) is required: a string of 1 to 200 characters");
  if (req.body.size() > app.max_event_data_bytes)
    return error(413, "data is larger than " + std::to_string(app.max_event_data_bytes) + " bytes");
  if (!json::valid_utf8(req.body)) return error(400, "data must be UTF-8 text");
  const std::string* socket_id = req.param("socket_id");
  if (socket_id && !is_valid_socket_id(*socket_id)) return error(400, "socket_id must look like 123.456");
  engine.publish(app, channel, *name, req.body, socket_id ? *socket_id : "");
  return {202, "{}"};
}

// POST /apps/{id}/users/{user_id}/terminate_connections. A user with no connections is not an
// error: apps call this on log-out whether or not the user is online.
Response terminate_connections(Engine& engine, const App& app, const std::string& user_id) {
  if (user_id.size() > app.max_user_id_length || !is_valid_user_id(user_id))
    return error(400, "Invalid user id: 1 to " + std::to_string(app.max_user_id_length) +
                          " of A-Z a-z 0-9 _ - = @ , . ;");
  engine.terminate_user(app, user_id);
  return {};
}

void channel_users(const Engine& engine, const App& app, const std::string& name, const Respond& respond) {
  if (!is_valid_channel_name(name, true)) return respond(error(400, "Invalid channel name"));
  if (channel_type(name) != ChannelType::Presence)
    return respond(error(400, "Users are only available for presence channels"));
  answer_read(engine, app, {ChannelRead::Shape::Users, {ChannelQuery::Kind::Users, name}, {}}, respond);
}

// Removes the first of `suffixes` that `path` ends with (leaving something before it) and
// returns it; empty when none matches.
std::string_view take_suffix(std::string& path, std::initializer_list<std::string_view> suffixes) {
  for (std::string_view suffix : suffixes) {
    if (path.size() > suffix.size() && path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0) {
      path.resize(path.size() - suffix.size());
      return suffix;
    }
  }
  return {};
}

// Whether a request with `method` may go where `allowed` is asked for: HEAD goes where GET does
// (net/ sends its answer without the body).
bool allows(std::string_view allowed, const std::string& method) {
  return method == allowed || (allowed == "GET" && method == "HEAD");
}

// 405 with the Allow field RFC 9110 asks for; `methods` as "GET" or "GET, POST".
Response not_allowed(std::string methods) {
  if (methods.compare(0, 3, "GET") == 0) methods.insert(3, ", HEAD");
  Response r = error(405, "Use " + methods);
  r.headers.emplace_back("Allow", methods);
  return r;
}

// The endpoints under /apps/{id}.
enum class Endpoint { Events, BatchEvents, Channels, Channel, ChannelUsers, ChannelEvents, TerminateUser };

// What an endpoint answers to: its method, and the query parameters it reads beyond the
// signature's (all else it reads is in the body, which body_md5 covers). One row per endpoint.
struct EndpointRule {
  Endpoint endpoint;
  const char* method;
  std::vector<std::string_view> query;
};

const EndpointRule& rule_of(Endpoint endpoint) {
  static const EndpointRule kRules[] = {
      {Endpoint::Events, "POST", {}},
      {Endpoint::BatchEvents, "POST", {}},
      {Endpoint::Channels, "GET", {"filter_by_prefix", "info"}},
      {Endpoint::Channel, "GET", {"info"}},
      {Endpoint::ChannelUsers, "GET", {}},
      {Endpoint::ChannelEvents, "POST", {"name", "socket_id"}},  // the deprecated one
      {Endpoint::TerminateUser, "POST", {}},
  };
  return *std::find_if(std::begin(kRules), std::end(kRules), [&](const auto& r) { return r.endpoint == endpoint; });
}

struct Target {
  Endpoint endpoint;
  std::string name;  // the channel or the user id the path names, if any
};

// What `rest` (the path after /apps/{id}) addresses; nullopt when no endpoint.
std::optional<Target> target_of(const std::string& rest) {
  if (rest == "/events") return Target{Endpoint::Events, ""};
  if (rest == "/batch_events") return Target{Endpoint::BatchEvents, ""};
  if (rest == "/channels") return Target{Endpoint::Channels, ""};
  constexpr std::string_view kChannels = "/channels/";
  if (rest.compare(0, kChannels.size(), kChannels) == 0) {
    std::string name = rest.substr(kChannels.size());
    std::string_view suffix = take_suffix(name, {"/users", "/events"});
    if (name.empty() || name.find('/') != std::string::npos) return std::nullopt;
    Endpoint endpoint = suffix.empty() ? Endpoint::Channel : suffix == "/users" ? Endpoint::ChannelUsers : Endpoint::ChannelEvents;
    return Target{endpoint, std::move(name)};
  }
  constexpr std::string_view kUsers = "/users/";
  if (rest.compare(0, kUsers.size(), kUsers) == 0) {
    std::string user_id = rest.substr(kUsers.size());
    if (take_suffix(user_id, {"/terminate_connections"}).empty() || user_id.find('/') != std::string::npos)
      return std::nullopt;
    return Target{Endpoint::TerminateUser, std::move(user_id)};
  }
  return std::nullopt;
}

// 400 naming the parameter of the query that is not in the form it must have.
std::optional<Response> refuse_query(const Request& req, const std::vector<std::string_view>& endpoint_params) {
  auto fault = check_query_form(req, endpoint_params);
  if (!fault) return std::nullopt;
  std::string body = "{\"error\":";
  json::append_quoted(body, fault->message);
  body += ",\"parameter\":";
  json::append_quoted(body, fault->parameter);
  return Response{400, body + "}"};
}

void route_app(Engine& engine, const App& app, const Request& req, const std::string& rest, const Respond& respond) {
  auto target = target_of(rest);
  if (!target) return respond(error(404, "Unknown path"));
  const EndpointRule& rule = rule_of(target->endpoint);
  if (!allows(rule.method, req.method)) return respond(not_allowed(rule.method));
  if (auto refusal = refuse_query(req, rule.query)) return respond(*refusal);
  const std::string& name = target->name;
  switch (target->endpoint) {
    case Endpoint::Events: return respond(publish_events(engine, app, req));
    case Endpoint::BatchEvents: return respond(publish_batch(engine, app, req));
    case Endpoint::Channels: return list_channels(engine, app, req, respond);
    case Endpoint::Channel: return show_channel(engine, app, name, req, respond);
    case Endpoint::ChannelUsers: return channel_users(engine, app, name, respond);
    case Endpoint::ChannelEvents: return respond(publish_to_channel(engine, app, name, req));
    case Endpoint::TerminateUser: return respond(terminate_connections(engine, app, name));
  }
}

// POST /channels/…: the event's name and data (and optional socket_id, info) as the body; the
// channel is the address, so the body may not name one.
Response publish_to_resource(Engine& engine, const App& app, const std::string& channel, const Request& req) {
  auto body = parse_body(req);
  if (!cJSON_IsObject(body.get())) return error(400, "Body must be a JSON object with name and data");
  if (cJSON_HasObjectItem(body.get(), "channel") || cJSON_HasObjectItem(body.get(), "channels"))
    return error(400, "The channel is the address: leave channel and channels out of the body");
  cJSON_AddStringToObject(body.get(), "channel", channel.c_str());
  EventRequest ev;
  if (auto err = read_event(app, body.get(), true, ev)) return *err;
  engine.publish(app, channel, ev.name, ev.data, ev.socket_id);
  if (!ev.wants_info) return {};
  return {200, attributes_json(engine.directory().snapshot(app, channel), ev.info)};
}

// Raptor's URL resources (/channels/{type}/…, DESIGN.md §1.2). The path names no app: the app is
// the one whose key signs the request. On GET a last segment "members" asks for the roster, else
// the answer is whether the channel is occupied and all its counts.
void route_resource(Engine& engine, const Request& req, int64_t now_s, const Respond& respond) {
  const std::string* key = req.param("auth_key");
  const App* app = key ? engine.app_by_key(*key) : nullptr;
  if (!app) return respond(error(401, key ? "Unknown auth_key" : "auth_key is required: sign the request as for the HTTP API"));
  if (auto why = verify_request(*app, req, now_s)) return respond(error(401, *why));
  bool get = allows("GET", req.method);
  if (!get && req.method != "POST") return respond(not_allowed("GET, POST"));
  if (auto refusal = refuse_query(req, {})) return respond(*refusal);
  std::string path = req.path;
  bool members = get && take_suffix(path, {"/members"}) == "/members";
  ChannelResource address = channel_from_resource(path);
  if (!address.valid()) return respond(error(address.status, address.error));
  if (!get) return respond(publish_to_resource(engine, *app, address.name, req));
  if (members) return channel_users(engine, *app, address.name, respond);
  answer_read(engine, *app, {ChannelRead::Shape::Resource, {ChannelQuery::Kind::Channel, address.name}, {}}, respond);
}

}  // namespace

Response error(int status, std::string_view message) {
  std::string body = "{\"error\":";
  json::append_quoted(body, message);
  return {status, body + "}"};
}

// {"status":…,"reasons":[…]} for anyone (load balancers; the states: metrics/health.h); signed
// like an API request by any app's key, also the webhook counters when webhooks are configured and the cluster's state (node id, counters)
// when this node is one of a cluster. Those are for operators, not for whoever can reach the port.
Response health(const Engine& engine, const Request& req, int64_t now_s) {
  auto field = [](const char* name, uint64_t n) { return std::string("\"") + name + "\":" + std::to_string(n); };
  // Draining (SIGTERM) is a 503, so that a load balancer whose health check reuses a connection
  // opened before the drain takes the node out too (new connections are refused already).
  metrics::HealthStatus assessed = metrics::assess_health(engine, now_s);
  int status = assessed.http_status();
  std::string body = assessed.json_head();
  const std::string* key = req.param("auth_key");
  if (!key) return {status, body + "}"};
  const App* app = engine.app_by_key(*key);
  if (!app) return error(401, "Unknown auth_key");
  if (auto why = verify_request(*app, req, now_s)) return error(401, *why);
  // Signed like the API, so held to the API's one query form (an auth endpoint must not sign it).
  if (auto refusal = refuse_query(req, {})) return *refusal;
  if (const WebhookSink* webhooks = engine.webhooks()) {
    WebhookStats s = webhooks->stats();
    body += ",\"webhooks\":{" + field("queued", s.queued) + "," + field("sent", s.sent) + "," +
            field("retried", s.retried) + "," + field("dropped", s.dropped) + "," + field("pending", s.pending) + "," +
            field("filtered", s.filtered) + "," + field("coalesced", s.coalesced);
    if (s.stream.used)
      body += std::string(",\"stream\":{\"state\":\"") + (s.stream.up ? "up" : "down") + "\"," +
              field("appended", s.stream.appended) + "," + field("read", s.stream.read) + "," +
              field("claimed", s.stream.claimed) + "," + field("acked", s.stream.acked) + "," +
              field("local", s.stream.local) + "}";
    body += "}";
  }
  if (const ClusterStatus* c = engine.cluster_status()) {
    size_t connected = c->workers_connected.load(std::memory_order_relaxed);
    body += ",\"cluster\":{\"node\":";
    json::append_quoted(body, c->node_id);
    body += std::string(",\"redis\":\"") + (connected == c->workers ? "up" : connected == 0 ? "down" : "partly up") +
            "\"," + field("workers_connected", connected) + "," + field("workers", c->workers) + "," +
            field("published", c->published.load(std::memory_order_relaxed)) + "," +
            field("received", c->received.load(std::memory_order_relaxed)) + "," +
            field("unsent", c->unsent.load(std::memory_order_relaxed)) + "," +
            field("node_timeout", uint64_t(c->node_timeout_s)) + "," +
            field("lease_renewals", c->lease_renewals.load(std::memory_order_relaxed)) + "," +
            field("dead_nodes_cleaned", c->dead_nodes_cleaned.load(std::memory_order_relaxed)) + "," +
            field("dead_members_removed", c->dead_members_removed.load(std::memory_order_relaxed)) + "}";
  }
  return {status, body + "}"};
}

void handle(Engine& engine, const Request& req, int64_t now_s, const Respond& respond) {
  // No CORS: the API is for servers, which sign with the app's secret; browsers never call it.
  if (req.method == "OPTIONS") return respond(Response{204, "", {{"Allow", "GET, HEAD, POST, OPTIONS"}}});
  if (serve_operator_page(engine, req, now_s, respond)) return;
  if (req.path == "/health")
    return respond(allows("GET", req.method) ? health(engine, req, now_s) : not_allowed("GET"));
  if (req.path.compare(0, kChannelResourceRoot.size(), kChannelResourceRoot) == 0)
    return route_resource(engine, req, now_s, respond);
  auto route = parse_app_path(req.path);
  if (!route) return respond(error(404, "Unknown path"));
  const App* app = engine.app_by_id(route->app_id);
  if (!app) return respond(error(404, "Unknown app id"));
  if (auto why = verify_request(*app, req, now_s)) return respond(error(401, *why));
  route_app(engine, *app, req, route->rest, respond);
}

}  // namespace raptor::http
