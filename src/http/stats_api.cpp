#include "http/stats_api.h"

#include <algorithm>
#include <cstdio>

#include "http/cluster_stats.h"
#include "http/query_form.h"
#include "http/request_auth.h"
#include "metrics/channel_stats.h"
#include "metrics/counters.h"
#include "protocol/channel_name.h"
#include "protocol/json.h"

namespace raptor::http {
namespace {

std::string figures_json(const metrics::MessageFigures& f) {
  char rate[32];
  std::snprintf(rate, sizeof rate, "%.3f", double(f.last_minute) / 60.0);
  return "{\"total\":" + std::to_string(f.total) + ",\"last_minute\":" + std::to_string(f.last_minute) +
         ",\"last_hour\":" + std::to_string(f.last_hour) + ",\"per_second_last_minute\":" + rate + "}";
}

// The lists' length ?top= asks for: kStatsTopChannels when absent, nullopt when not 1..100.
std::optional<size_t> top_of(const Request& req) {
  const std::string* given = req.param("top");
  if (!given) return kStatsTopChannels;
  if (given->empty() || given->size() > 3 || given->find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  size_t n = std::stoul(*given);
  if (n < 1 || n > kStatsMaxTopChannels) return std::nullopt;
  return n;
}

}  // namespace

AppFigures app_figures(const Engine& engine, const App& app, size_t top) {
  const metrics::Registry& registry = metrics::Registry::instance();
  const metrics::ChannelStats& stats = metrics::ChannelStats::instance();
  size_t slot = registry.slot_of(app);
  int64_t now_s = metrics::stats_now_s();
  AppFigures f;
  f.app = app.id;
  // Connections are counted per app label: apps past the labelled ones share theirs.
  f.connections = registry.open_connections(slot);
  f.peak = registry.peak_connections(slot);
  f.messages = stats.app(app, now_s);
  auto occupied = engine.directory().occupied(app, "");
  f.occupied = occupied.size();
  f.tracked = stats.tracked(app);
  f.top_channels = stats.top(app, top, now_s);
  for (const auto& [name, snap] : occupied)
    if (snap.presence) f.largest_presence.emplace_back(name, snap.user_count);
  size_t n = std::min(f.largest_presence.size(), top);
  std::partial_sort(f.largest_presence.begin(), f.largest_presence.begin() + long(n), f.largest_presence.end(),
                    [](const auto& x, const auto& y) { return x.second > y.second || (x.second == y.second && x.first < y.first); });
  f.largest_presence.resize(n);
  return f;
}

std::string app_figures_json(const AppFigures& f) {
  std::string out = "{\"app\":";
  json::append_quoted(out, f.app);
  out += ",\"connections\":{\"current\":" + std::to_string(f.connections) + ",\"peak\":" + std::to_string(f.peak) + "}";
  out += ",\"messages\":" + figures_json(f.messages);
  out += ",\"channels\":{\"occupied\":" + std::to_string(f.occupied) + ",\"tracked\":" + std::to_string(f.tracked) + "}";
  out += ",\"top_channels\":[";
  for (size_t i = 0; i < f.top_channels.size(); ++i) {
    if (i) out += ',';
    out += "{\"name\":";
    json::append_quoted(out, f.top_channels[i].first);
    out += ",\"messages\":" + figures_json(f.top_channels[i].second) + "}";
  }
  out += "],\"largest_presence_channels\":[";
  for (size_t i = 0; i < f.largest_presence.size(); ++i) {
    if (i) out += ',';
    out += "{\"name\":";
    json::append_quoted(out, f.largest_presence[i].first);
    out += ",\"user_count\":" + std::to_string(f.largest_presence[i].second) + "}";
  }
  return out + "]}";
}

std::string app_stats_json(const Engine& engine, const App& app, size_t top) {
  if (engine.cluster_status()) return cluster_app_stats_json(engine, app, top);
  return app_figures_json(app_figures(engine, app, top));
}

namespace {

Response channel_stats(const Engine& engine, const App& app, const std::string& name) {
  if (!is_valid_channel_name(name, true)) return error(400, "Invalid channel name");
  ChannelSnapshot snap = engine.directory().snapshot(app, name);
  auto figures = metrics::ChannelStats::instance().channel(app, name, metrics::stats_now_s());
  std::string out = "{\"name\":";
  json::append_quoted(out, name);
  out += std::string(",\"occupied\":") + (snap.occupied ? "true" : "false") +
         ",\"subscription_count\":" + std::to_string(snap.subscription_count);
  if (snap.presence) out += ",\"user_count\":" + std::to_string(snap.user_count);
  out += std::string(",\"tracked\":") + (figures ? "true" : "false");
  out += ",\"messages\":" + figures_json(figures.value_or(metrics::MessageFigures{}));
  return {200, out + "}"};
}

}  // namespace

std::optional<Response> stats_request(const Engine& engine, const Request& req, int64_t now_s) {
  constexpr std::string_view kApps = "/apps/", kStats = "/stats", kChannels = "/channels/";
  const std::string& path = req.path;
  if (path.compare(0, kApps.size(), kApps) != 0 || path.size() < kApps.size() + kStats.size() ||
      path.compare(path.size() - kStats.size(), kStats.size(), kStats) != 0)
    return std::nullopt;
  std::string inner = path.substr(kApps.size(), path.size() - kApps.size() - kStats.size());  // "{id}" or "{id}/channels/{name}"
  size_t slash = inner.find('/');
  std::string app_id = inner.substr(0, slash);
  std::string channel;
  if (slash != std::string::npos) {
    if (inner.compare(slash, kChannels.size(), kChannels) != 0) return std::nullopt;
    channel = inner.substr(slash + kChannels.size());
    if (channel.empty() || channel.find('/') != std::string::npos) return std::nullopt;
  }
  const App* app = engine.app_by_id(app_id);
  if (!app) return error(404, "Unknown app id");
  if (auto why = verify_request(*app, req, now_s)) return error(401, *why);
  if (req.method != "GET" && req.method != "HEAD") {
    Response r = error(405, "Use GET, HEAD");
    r.headers.emplace_back("Allow", "GET, HEAD");
    return r;
  }
  if (auto fault = check_query_form(req, channel.empty() ? std::vector<std::string_view>{"top"}
                                                         : std::vector<std::string_view>{}))
    return error(400, fault->message);
  if (!channel.empty()) return channel_stats(engine, *app, channel);
  auto top = top_of(req);
  if (!top) return error(400, "top must be a whole number from 1 to " + std::to_string(kStatsMaxTopChannels));
  return Response{200, app_stats_json(engine, *app, *top)};
}

}  // namespace raptor::http
