// The stats API (docs/metrics.md#statistics), signed like the Pusher API with the app's key:
//   GET /apps/{id}/stats[?top=N]           the app: connections (now, peak), messages (total,
//                                          last minute, last hour), the N (default 10, at most
//                                          100) busiest channels and largest presence channels
//   GET /apps/{id}/channels/{name}/stats   one channel: its counts now and its messages
// In a cluster the app's figures are every node's (cluster_stats.h); one channel's are this node's.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/engine.h"
#include "http/request.h"
#include "metrics/channel_stats.h"

namespace raptor::http {

constexpr size_t kStatsTopChannels = 10;     // the lists' length without ?top=
constexpr size_t kStatsMaxTopChannels = 100;  // the most ?top= may ask for

// What GET /apps/{id}/stats tells of an app, before it is written as JSON.
struct AppFigures {
  std::string app;
  uint64_t connections = 0;
  uint64_t peak = 0;
  metrics::MessageFigures messages;
  uint64_t occupied = 0;
  uint64_t tracked = 0;
  std::vector<std::pair<std::string, metrics::MessageFigures>> top_channels;  // busiest first
  std::vector<std::pair<std::string, uint64_t>> largest_presence;            // user counts, largest first
};

// This node's figures of the app, with lists of `top` channels.
AppFigures app_figures(const Engine& engine, const App& app, size_t top);
// The figures as the API answers them.
std::string app_figures_json(const AppFigures& f);
// The app's statistics as the API and the dashboard show them: over every node in a cluster
// (cluster_stats.h), else this node's.
std::string app_stats_json(const Engine& engine, const App& app, size_t top = kStatsTopChannels);

// The answer when `req` is for one of these paths, else nullopt.
std::optional<Response> stats_request(const Engine& engine, const Request& req, int64_t now_s);

}  // namespace raptor::http
