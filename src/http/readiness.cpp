#include "http/readiness.h"

#include "protocol/json.h"

namespace raptor::http {

ReadinessAnswer readiness_of(const Engine& engine) {
  ReadinessAnswer a;
  std::string reason;
  if (engine.draining()) {
    // A load balancer whose health check reuses a connection opened before the drain takes the
    // node out too (new connections are refused already).
    a.status = 503;
    a.body = "{\"status\":\"draining\"";
    reason = "draining (SIGTERM): closing its connections, taking no new ones";
  } else if (std::string waiting = engine.waiting_for(); !waiting.empty()) {
    a.status = 503;
    a.body = "{\"status\":\"starting\"";
    reason = std::move(waiting);
  } else {
    a.body = "{\"status\":\"ok\"";
    return a;
  }
  a.body += ",\"reason\":";
  json::append_quoted(a.body, reason);
  return a;
}

Response liveness() { return {200, "{\"status\":\"live\"}"}; }

std::optional<Response> refuse_until_ready(const Engine& engine) {
  std::string waiting = engine.waiting_for();
  if (waiting.empty()) return std::nullopt;
  Response r = error(503, "This node is starting (" + waiting + "); try again, or another node");
  r.headers.emplace_back("Retry-After", "1");
  return r;
}

}  // namespace raptor::http
