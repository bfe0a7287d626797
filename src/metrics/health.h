// What /health answers (docs/metrics.md#health): one state and the reasons for it, so that a
// load balancer can act on the status code and an operator can read why.
//   ok        200  serving normally
//   degraded  200  serving, but something needs a look (the reasons say what); still in rotation
//   starting  503  a cluster node whose link to Redis is not ready yet (docs/cluster.md#readiness)
//   draining  503  SIGTERM: closing its clients, taking no new ones; out of rotation
// Starting and draining carry one "reason" (what is awaited), degraded its "reasons".
// Every state and its rules live here; callers only read the result.
#pragma once
#include <string>
#include <vector>

#include "core/engine.h"

namespace raptor::metrics {

// How much of a problem may pass in the last minute before the node says it is degraded.
constexpr int64_t kHealthWindowS = 60;
constexpr uint64_t kWebhookRetriesDegradedAbove = 10;

struct HealthStatus {
  enum class State { Ok, Degraded, Starting, Draining };
  static constexpr State kStates[] = {State::Ok, State::Degraded, State::Starting, State::Draining};
  State state = State::Ok;
  std::vector<std::string> reasons;

  int http_status() const { return state == State::Starting || state == State::Draining ? 503 : 200; }
  const char* name() const;
  // {"status":"degraded","reasons":["…"]} or {"status":"starting","reason":"…"}, without the
  // closing brace (the caller may add members).
  std::string json_head() const;
};

// The node's state now; from any worker thread. Keeps a minute of counter samples to tell
// what happened lately from what happened once.
HealthStatus assess_health(const Engine& engine, int64_t now_s);

}  // namespace raptor::metrics
