#include "http/readiness.h"


namespace raptor::http {

Response liveness() { return {200, "{\"status\":\"live\"}"}; }

std::optional<Response> refuse_until_ready(const Engine& engine) {
  std::string waiting = engine.waiting_for();
  if (waiting.empty()) return std::nullopt;
  Response r = error(503, "This node is starting (" + waiting + "); try again, or another node");
  r.headers.emplace_back("Retry-After", "1");
  return r;
}

}  // namespace raptor::http
