// Readiness as the HTTP side tells it (docs/cluster.md#readiness): the refusal of API requests
// that reach a node not ready yet (/health's states: metrics/health.h). Liveness is /health/live: 200 while
// the process answers at all, starting and draining included, for a supervisor that restarts
// what hangs (a readiness 503 must not get a starting node restarted).
#pragma once
#include <optional>
#include <string>

#include "core/engine.h"
#include "http/request.h"

namespace raptor::http {

// /health/live's answer.
Response liveness();

// 503 with the reason and Retry-After for an API request while the node is starting; nullopt
// once it is ready (a draining node still answers what reaches it).
std::optional<Response> refuse_until_ready(const Engine& engine);

}  // namespace raptor::http
