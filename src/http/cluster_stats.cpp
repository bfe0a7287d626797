#include "http/cluster_stats.h"

#include <algorithm>
#include <map>

#include "metrics/channel_stats.h"
#include "metrics/counters.h"
#include "metrics/health.h"
#include "metrics/node_stats_board.h"
#include "protocol/json.h"

namespace raptor::http {
namespace {

constexpr std::string_view kNodeField = "node";
std::string app_field(const App& app) { return "app:" + app.id; }

int64_t now_ms() { return metrics::steady_us() / 1000; }

uint64_t number(const cJSON* obj, const char* key) {
  const cJSON* n = cJSON_GetObjectItemCaseSensitive(obj, key);
  // Another node's figures, but read as any outside number: a cast beyond uint64's range is undefined.
  return cJSON_IsNumber(n) && n->valuedouble > 0 && n->valuedouble < 1.8e19 ? uint64_t(n->valuedouble) : 0;
}

metrics::MessageFigures figures_of(const cJSON* messages) {
  return {number(messages, "total"), number(messages, "last_minute"), number(messages, "last_hour")};
}

void add(metrics::MessageFigures& into, const metrics::MessageFigures& f) {
  into.total += f.total;
  into.last_minute += f.last_minute;
  into.last_hour += f.last_hour;
}

// An app's figures as another node wrote them (app_figures_json); false when they do not parse.
bool parse_figures(std::string_view text, AppFigures& f) {
  json::Ptr root = json::parse(text);
  if (!cJSON_IsObject(root.get())) return false;
  const cJSON* connections = cJSON_GetObjectItemCaseSensitive(root.get(), "connections");
  const cJSON* channels = cJSON_GetObjectItemCaseSensitive(root.get(), "channels");
  f.connections = number(connections, "current");
  f.peak = number(connections, "peak");
  f.messages = figures_of(cJSON_GetObjectItemCaseSensitive(root.get(), "messages"));
  f.occupied = number(channels, "occupied");
  f.tracked = number(channels, "tracked");
  const cJSON* c = nullptr;
  cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(root.get(), "top_channels")) {
    if (auto name = json::string_member(c, "name"))
      f.top_channels.emplace_back(std::string(*name), figures_of(cJSON_GetObjectItemCaseSensitive(c, "messages")));
  }
  cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(root.get(), "largest_presence_channels")) {
    if (auto name = json::string_member(c, "name")) f.largest_presence.emplace_back(std::string(*name), number(c, "user_count"));
  }
  return true;
}

// This node's summary for the nodes view.
std::string node_summary_json(const Engine& engine, int64_t now_s) {
  const metrics::Registry& registry = metrics::Registry::instance();
  uint64_t connections = registry.open_connections(metrics::kOtherApps);
  for (size_t slot = 0; slot < registry.labeled_apps(); ++slot) connections += registry.open_connections(slot);
  uint64_t last_minute = 0;
  if (const AppList* apps = registry.apps())
    for (const App& app : *apps)
      if (!app.retired) last_minute += metrics::ChannelStats::instance().app(app, metrics::stats_now_s()).last_minute;
  const ClusterStatus* cluster = engine.cluster_status();
  std::string out = "{\"node\":";
  json::append_quoted(out, cluster ? cluster->node_id : "");
  out += ",\"health\":";
  json::append_quoted(out, metrics::assess_health(engine, now_s).name());
  out += ",\"connections\":" + std::to_string(connections) + ",\"messages_last_minute\":" + std::to_string(last_minute);
  out += std::string(",\"draining\":") + (engine.draining() ? "true" : "false");
  if (cluster)
    out += ",\"redis_workers_connected\":" + std::to_string(cluster->workers_connected.load(std::memory_order_relaxed)) +
           ",\"workers\":" + std::to_string(cluster->workers);
  return out + "}";
}

}  // namespace

void share_node_stats(Engine& engine, int64_t now_s) {
  ClusterBus* bus = engine.cluster();
  // A draining node stops: its figures are going away, and what it asks Redis now would only
  // wait behind the cluster changes its drain waits for (its hash is deleted with its lease).
  if (!bus || engine.draining()) return;
  ClusterBus::StatsFields fields{{std::string(kNodeField), node_summary_json(engine, now_s)}};
  if (const AppList* apps = metrics::Registry::instance().apps())
    for (const App& app : *apps)
      if (!app.retired) fields.emplace_back(app_field(app), app_figures_json(app_figures(engine, app, kStatsMaxTopChannels)));
  bus->share_node_stats(fields, [](const ClusterBus::NodeStats* nodes) {
    if (nodes) metrics::NodeStatsBoard::instance().update(*nodes, now_ms());
  });
}

std::string cluster_app_stats_json(const Engine& engine, const App& app, size_t top) {
  AppFigures total = app_figures(engine, app, kStatsMaxTopChannels);
  const ClusterStatus* cluster = engine.cluster_status();
  std::vector<std::pair<std::string, AppFigures>> parts{{cluster ? cluster->node_id : "", total}};  // this node's first
  for (const auto& [node, text] : metrics::NodeStatsBoard::instance().field(app_field(app), now_ms())) {
    AppFigures f;
    if (parse_figures(text, f)) parts.emplace_back(node, std::move(f));
  }
  std::map<std::string, metrics::MessageFigures> channels;
  std::map<std::string, uint64_t> presence;
  for (const auto& [node, f] : parts) {
    for (const auto& [name, figures] : f.top_channels) add(channels[name], figures);
    for (const auto& [name, users] : f.largest_presence) presence[name] = std::max(presence[name], users);
    if (&f == &parts.front().second) continue;  // this node's counts are in `total` already
    total.connections += f.connections;
    total.peak += f.peak;
    add(total.messages, f.messages);
    total.occupied += f.occupied;
    total.tracked += f.tracked;
  }
  total.top_channels.assign(channels.begin(), channels.end());
  std::stable_sort(total.top_channels.begin(), total.top_channels.end(), [](const auto& x, const auto& y) {
    return x.second.last_hour > y.second.last_hour ||
           (x.second.last_hour == y.second.last_hour && x.second.last_minute > y.second.last_minute);
  });
  total.top_channels.resize(std::min(total.top_channels.size(), top));
  total.largest_presence.assign(presence.begin(), presence.end());
  std::stable_sort(total.largest_presence.begin(), total.largest_presence.end(),
                   [](const auto& x, const auto& y) { return x.second > y.second; });
  total.largest_presence.resize(std::min(total.largest_presence.size(), top));

  std::string out = app_figures_json(total);
  out.pop_back();  // the closing brace: the nodes follow
  out += ",\"nodes\":[";
  for (size_t i = 0; i < parts.size(); ++i) {
    const AppFigures& f = parts[i].second;
    if (i) out += ',';
    out += "{\"node\":";
    json::append_quoted(out, parts[i].first);
    out += ",\"connections\":" + std::to_string(f.connections) + ",\"messages_total\":" + std::to_string(f.messages.total) + "}";
  }
  return out + "]}";
}

std::string cluster_nodes_json(const Engine& engine, int64_t now_s) {
  std::string out = "[" + node_summary_json(engine, now_s);
  for (const auto& [node, text] : metrics::NodeStatsBoard::instance().field(std::string(kNodeField), now_ms()))
    out += "," + text;
  return out + "]";
}

}  // namespace raptor::http
