#include "http/endpoints/health.h"

#include <string>

#include "http/request_auth.h"
#include "http/validation.h"
#include "metrics/health.h"
#include "protocol/json.h"

namespace raptor::http {
namespace {

std::string field(const char* name, uint64_t n) { return std::string("\"") + name + "\":" + std::to_string(n); }

std::string webhooks_json(const WebhookStats& s) {
  std::string out = "{" + field("queued", s.queued) + "," + field("sent", s.sent) + "," + field("retried", s.retried) +
                    "," + field("dropped", s.dropped) + "," + field("pending", s.pending) + "," +
                    field("filtered", s.filtered) + "," + field("coalesced", s.coalesced);
  if (s.stream.used)
    out += std::string(",\"stream\":{\"state\":\"") + (s.stream.up ? "up" : "down") + "\"," +
           field("appended", s.stream.appended) + "," + field("read", s.stream.read) + "," +
           field("claimed", s.stream.claimed) + "," + field("acked", s.stream.acked) + "," +
           field("local", s.stream.local) + "}";
  return out + "}";
}

std::string cluster_json(const ClusterStatus& c) {
  size_t connected = c.workers_connected.load(std::memory_order_relaxed);
  std::string out = "{\"node\":";
  json::append_quoted(out, c.node_id);
  return out + std::string(",\"redis\":\"") + (connected == c.workers ? "up" : connected == 0 ? "down" : "partly up") +
         "\"," + field("workers_connected", connected) + "," + field("workers", c.workers) + "," +
         field("published", c.published.load(std::memory_order_relaxed)) + "," +
         field("received", c.received.load(std::memory_order_relaxed)) + "," +
         field("unsent", c.unsent.load(std::memory_order_relaxed)) + "," +
         field("node_timeout", uint64_t(c.node_timeout_s)) + "," +
         field("lease_renewals", c.lease_renewals.load(std::memory_order_relaxed)) + "," +
         field("dead_nodes_cleaned", c.dead_nodes_cleaned.load(std::memory_order_relaxed)) + "," +
         field("dead_members_removed", c.dead_members_removed.load(std::memory_order_relaxed)) + "}";
}

}  // namespace

Response health(const Engine& engine, const Request& req, int64_t now_s) {
  // Starting or draining: 503, with the reason; degraded: 200 with the reasons (metrics/health.h).
  metrics::HealthStatus assessed = metrics::assess_health(engine, now_s);
  int status = assessed.http_status();
  std::string body = assessed.json_head();
  const std::string* key = req.param("auth_key");
  if (!key) return {status, body + "}"};
  const App* app = engine.app_by_key(*key);
  if (!app) return error(401, "Unknown auth_key");
  if (auto why = verify_request(*app, req, now_s)) return error(401, *why);
  // Signed like the API, so held to the API's one query form (an auth endpoint must not sign it).
  if (auto refusal = refuse_query(req, {})) return *refusal;
  if (const WebhookSink* webhooks = engine.webhooks()) body += ",\"webhooks\":" + webhooks_json(webhooks->stats());
  if (const ClusterStatus* c = engine.cluster_status()) body += ",\"cluster\":" + cluster_json(*c);
  return {status, body + "}"};
}

}  // namespace raptor::http
