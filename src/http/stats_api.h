// The stats API (docs/metrics.md#statistics), signed like the Pusher API with the app's key:
//   GET /apps/{id}/stats                   the app: connections (now, peak), messages (total,
//                                          last minute, last hour), the busiest channels and the
//                                          largest presence channels
//   GET /apps/{id}/channels/{name}/stats   one channel: its counts now and its messages
// Figures are this node's (a cluster's nodes each answer for themselves).
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "core/engine.h"
#include "http/request.h"

namespace raptor::http {

constexpr size_t kStatsTopChannels = 10;

// The answer to GET /apps/{id}/stats (the dashboard shows it too).
std::string app_stats_json(const Engine& engine, const App& app);

// The answer when `req` is for one of these paths, else nullopt.
std::optional<Response> stats_request(const Engine& engine, const Request& req, int64_t now_s);

}  // namespace raptor::http
