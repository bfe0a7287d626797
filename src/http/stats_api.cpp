#include "http/stats_api.h"

#include <algorithm>
#include <cstdio>

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

}  // namespace

std::string app_stats_json(const Engine& engine, const App& app) {
  const metrics::Registry& registry = metrics::Registry::instance();
  size_t slot = registry.slot_of(app);
  int64_t now_s = metrics::stats_now_s();
  std::string out = "{\"app\":";
  json::append_quoted(out, app.id);
  // Connections are counted per app label: apps past the labelled ones share theirs.
  out += ",\"connections\":{\"current\":" + std::to_string(registry.open_connections(slot)) +
         ",\"peak\":" + std::to_string(registry.peak_connections(slot)) + "}";
  out += ",\"messages\":" + figures_json(metrics::ChannelStats::instance().app(app, now_s));
  auto occupied = engine.directory().occupied(app, "");
  out += ",\"channels\":{\"occupied\":" + std::to_string(occupied.size()) +
         ",\"tracked\":" + std::to_string(metrics::ChannelStats::instance().tracked(app)) + "}";
  out += ",\"top_channels\":[";
  bool first = true;
  for (const auto& [name, figures] : metrics::ChannelStats::instance().top(app, kStatsTopChannels, now_s)) {
    if (!first) out += ',';
    first = false;
    out += "{\"name\":";
    json::append_quoted(out, name);
    out += ",\"messages\":" + figures_json(figures) + "}";
  }
  out += "],\"largest_presence_channels\":[";
  std::vector<std::pair<std::string, ChannelSnapshot>> presence;
  for (auto& entry : occupied)
    if (entry.second.presence) presence.push_back(std::move(entry));
  size_t n = std::min(presence.size(), kStatsTopChannels);
  std::partial_sort(presence.begin(), presence.begin() + long(n), presence.end(),
                    [](const auto& x, const auto& y) { return x.second.user_count > y.second.user_count ||
                                                              (x.second.user_count == y.second.user_count && x.first < y.first); });
  for (size_t i = 0; i < n; ++i) {
    if (i) out += ',';
    out += "{\"name\":";
    json::append_quoted(out, presence[i].first);
    out += ",\"user_count\":" + std::to_string(presence[i].second.user_count) + "}";
  }
  return out + "]}";
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
  if (auto fault = check_query_form(req, {})) return error(400, fault->message);
  return channel.empty() ? Response{200, app_stats_json(engine, *app)} : channel_stats(engine, *app, channel);
}

}  // namespace raptor::http
