// GET /health: {"status":"ok"} for anyone (load balancers), 503 "draining" during a drain. Signed
// like an API request by any app's key, it also holds the webhook counters when webhooks are
// configured and the cluster's state (node id, counters) when this node is one of a cluster:
// those are for operators, not for whoever can reach the port.
#pragma once
#include <cstdint>

#include "core/engine.h"
#include "http/request.h"

namespace raptor::http {

Response health(const Engine& engine, const Request& req, int64_t now_s);

}  // namespace raptor::http
