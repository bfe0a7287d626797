#include "http/endpoints/channels.h"

#include <optional>

#include "http/validation.h"
#include "protocol/channel_kind.h"
#include "protocol/json.h"

namespace raptor::http {
namespace {

// A validated channel read: what to ask, and how to answer.
struct ChannelRead {
  enum class Shape { List, Channel, Users, Resource };
  Shape shape;
  ChannelQuery query;
  InfoRequest info;
};

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

InfoRequest info_of(const Request& req) {
  const std::string* info = req.param("info");
  return info ? parse_info(*info) : InfoRequest{};
}

}  // namespace

void list_channels(const AppCall& call, const Respond& respond) {
  const std::string* prefix = call.req.param("filter_by_prefix");
  InfoRequest info = info_of(call.req);
  if (info.user_count && (!prefix || channel_type(*prefix) != ChannelType::Presence))
    return respond(error(400, "info=user_count requires filter_by_prefix=presence-"));
  ChannelQuery query{ChannelQuery::Kind::List, prefix ? *prefix : "", info.subscription_count, info.user_count};
  answer_read(call.engine, call.app, {ChannelRead::Shape::List, std::move(query), info}, respond);
}

void show_channel(const AppCall& call, const Respond& respond) {
  const std::string& name = call.name;
  if (auto refusal = refuse_channel_name(name)) return respond(*refusal);
  InfoRequest info = info_of(call.req);
  if (info.user_count && channel_type(name) != ChannelType::Presence)
    return respond(error(400, "user_count is only available for presence channels"));
  if (info.cache && !is_cache_channel(name)) return respond(error(400, "cache is only available for cache channels"));
  answer_read(call.engine, call.app, {ChannelRead::Shape::Channel, {ChannelQuery::Kind::Channel, name}, info}, respond);
}

void channel_users(const AppCall& call, const Respond& respond) {
  const std::string& name = call.name;
  if (auto refusal = refuse_channel_name(name)) return respond(*refusal);
  if (channel_type(name) != ChannelType::Presence)
    return respond(error(400, "Users are only available for presence channels"));
  answer_read(call.engine, call.app, {ChannelRead::Shape::Users, {ChannelQuery::Kind::Users, call.name}, {}}, respond);
}

void channel_state(const AppCall& call, const Respond& respond) {
  answer_read(call.engine, call.app, {ChannelRead::Shape::Resource, {ChannelQuery::Kind::Channel, call.name}, {}},
              respond);
}

}  // namespace raptor::http
