#include "metrics/health.h"

#include <algorithm>
#include <deque>
#include <mutex>

#include "metrics/counters.h"
#include "protocol/errors.h"
#include "protocol/json.h"

namespace raptor::metrics {
namespace {

// The counters whose growth over the last minute degrades the node.
struct Sample {
  int64_t at_s = 0;
  uint64_t webhooks_dropped = 0;
  uint64_t webhooks_retried = 0;
  uint64_t over_capacity = 0;  // clients closed with 4100: their send queue reached its ceiling
};

Sample sample_now(const Engine& engine, int64_t now_s) {
  Sample s;
  s.at_s = now_s;
  if (const WebhookSink* webhooks = engine.webhooks()) {
    WebhookStats w = webhooks->stats();
    s.webhooks_dropped = w.dropped;
    s.webhooks_retried = w.retried;
  }
  const auto& codes = known_close_codes();
  size_t slot = size_t(std::find(codes.begin(), codes.end(), code(CloseCode::OverCapacity)) - codes.begin());
  s.over_capacity = Registry::instance().sum()->closes_by_code[slot].value();
  return s;
}

// The sample a minute ago (or the oldest kept): the growth since then is "the last minute".
Sample baseline(const Sample& now) {
  static std::mutex mutex;
  static std::deque<Sample> kept;  // at most one a second, over the window
  std::lock_guard<std::mutex> lock(mutex);
  while (kept.size() > 1 && kept[1].at_s <= now.at_s - kHealthWindowS) kept.pop_front();
  Sample base = kept.empty() ? now : kept.front();
  if (kept.empty() || kept.back().at_s != now.at_s) kept.push_back(now);
  return base;
}

}  // namespace

const char* HealthStatus::name() const {
  switch (state) {
    case State::Ok: return "ok";
    case State::Degraded: return "degraded";
    case State::Starting: return "starting";
    case State::Draining: return "draining";
  }
  return "ok";
}

std::string HealthStatus::json_head() const {
  std::string out = std::string("{\"status\":\"") + name() + "\"";
  if (reasons.empty()) return out;
  if (state == State::Starting || state == State::Draining) {
    out += ",\"reason\":";
    json::append_quoted(out, reasons.front());
    return out;
  }
  out += ",\"reasons\":[";
  for (size_t i = 0; i < reasons.size(); ++i) {
    if (i) out += ',';
    json::append_quoted(out, reasons[i]);
  }
  return out + "]";
}

HealthStatus assess_health(const Engine& engine, int64_t now_s) {
  HealthStatus h;
  if (engine.draining()) {
    h.state = HealthStatus::State::Draining;
    h.reasons.push_back("draining (SIGTERM): closing its connections, taking no new ones");
    return h;
  }
  if (std::string waiting = engine.waiting_for(); !waiting.empty()) {
    h.state = HealthStatus::State::Starting;
    h.reasons.push_back(std::move(waiting));
    return h;
  }
  if (const ClusterStatus* c = engine.cluster_status()) {
    size_t connected = c->workers_connected.load(std::memory_order_relaxed);
    if (connected < c->workers)
      h.reasons.push_back("redis: " + std::to_string(c->workers - connected) + " of " + std::to_string(c->workers) +
                          " workers not connected");
  }
  Sample now = sample_now(engine, now_s);
  Sample base = baseline(now);
  if (uint64_t n = now.webhooks_dropped - base.webhooks_dropped)
    h.reasons.push_back("webhooks: " + std::to_string(n) + " dropped in the last minute");
  if (uint64_t n = now.webhooks_retried - base.webhooks_retried; n > kWebhookRetriesDegradedAbove)
    h.reasons.push_back("webhooks: " + std::to_string(n) + " retried in the last minute");
  if (uint64_t n = now.over_capacity - base.over_capacity)
    h.reasons.push_back("send queues: " + std::to_string(n) + " clients closed at the send queue ceiling (4100) in the last minute");
  if (!h.reasons.empty()) h.state = HealthStatus::State::Degraded;
  return h;
}

}  // namespace raptor::metrics
