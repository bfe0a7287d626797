// The /metrics page: every worker's counters summed (counters.h), the node's channels from the
// shared directory, webhooks, the cluster link, health and the process's figures, in the
// Prometheus text format. Names and labels: docs/metrics.md.
#pragma once
#include <cstdint>
#include <string>

#include "core/engine.h"

namespace raptor::metrics {

std::string scrape(const Engine& engine, int64_t now_s);

}  // namespace raptor::metrics
