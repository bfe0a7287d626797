#include "http/dashboard.h"

#include "http/admin_access.h"
#include "http/cluster_stats.h"
#include "http/dashboard_assets.h"
#include "http/stats_api.h"
#include "metrics/counters.h"
#include "metrics/health.h"
#include "protocol/admin_token.h"
#include "protocol/channel_name.h"
#include "protocol/json.h"
#include "protocol/messages.h"
#include "protocol/signature.h"

namespace raptor::http {
namespace {

constexpr std::string_view kRoot = "/dashboard";
constexpr std::string_view kApi = "/dashboard/api/";

const char* content_type_of(std::string_view name) {
  if (name.size() >= 5 && name.substr(name.size() - 5) == ".html") return "text/html; charset=utf-8";
  if (name.size() >= 3 && name.substr(name.size() - 3) == ".js") return "text/javascript; charset=utf-8";
  if (name.size() >= 4 && name.substr(name.size() - 4) == ".svg") return "image/svg+xml";
  return "text/css; charset=utf-8";
}

std::optional<Response> asset(std::string_view name) {
  for (const DashboardAsset& a : dashboard_assets()) {
    if (a.name != name) continue;
    Response r{200, std::string(a.bytes)};
    r.content_type = content_type_of(name);
    // Everything comes from this server: no CDN, no inline script, no framing by other sites.
    r.headers.emplace_back("Content-Security-Policy",
                           "default-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'");
    r.headers.emplace_back("X-Content-Type-Options", "nosniff");
    r.headers.emplace_back("Cache-Control", "no-cache");
    return r;
  }
  return std::nullopt;
}

}  // namespace

std::string dashboard_overview_json(const Engine& engine, int64_t now_s) {
  metrics::HealthStatus health = metrics::assess_health(engine, now_s);
  std::string out = "{\"health\":" + health.json_head() + "}";
  out += ",\"node\":{\"id\":";
  const ClusterStatus* cluster = engine.cluster_status();
  json::append_quoted(out, cluster ? cluster->node_id : "");
  out += std::string(",\"cluster\":") + (cluster ? "true" : "false");
  if (cluster)
    out += ",\"redis_workers_connected\":" + std::to_string(cluster->workers_connected.load(std::memory_order_relaxed)) +
           ",\"workers\":" + std::to_string(cluster->workers);
  out += std::string(",\"draining\":") + (engine.draining() ? "true" : "false") + "}";
  if (cluster) out += ",\"nodes\":" + cluster_nodes_json(engine, now_s);
  auto sum = metrics::Registry::instance().sum();
  out += ",\"messages_sent\":" + std::to_string(sum->counts[size_t(metrics::Count::FramesOut)].value());
  if (const WebhookSink* webhooks = engine.webhooks()) {
    WebhookStats s = webhooks->stats();
    out += ",\"webhooks\":{\"pending\":" + std::to_string(s.pending) + ",\"sent\":" + std::to_string(s.sent) +
           ",\"retried\":" + std::to_string(s.retried) + ",\"dropped\":" + std::to_string(s.dropped) +
           ",\"oldest_age_ms\":" + std::to_string(s.oldest_age_ms) + "}";
  }
  out += ",\"apps\":[";
  bool first = true;
  if (const AppList* apps = metrics::Registry::instance().apps()) {
    for (const App& app : *apps) {
      if (app.retired) continue;
      if (!first) out += ',';
      first = false;
      std::string stats = app_stats_json(engine, app);
      out += "{\"key\":";  // public: every client holds it
      json::append_quoted(out, app.key);
      out += "," + stats.substr(1);
    }
  }
  return out + "]}";
}

void feed_dashboard(Engine& engine, int64_t now_s) {
  if (engine.dashboard_watched()) engine.send_to_dashboard("overview", dashboard_overview_json(engine, now_s));
}

namespace {

// The app a dashboard request names, or the error.
const App* app_named(const Engine& engine, const std::string* id, Response& refusal) {
  const App* app = id ? engine.app_by_id(*id) : nullptr;
  if (!app) refusal = error(id ? 404 : 400, id ? "Unknown app id" : "app is required");
  return app;
}

Response roster(const Engine& engine, const Request& req) {
  Response refusal;
  const App* app = app_named(engine, req.param("app"), refusal);
  if (!app) return refusal;
  const std::string* channel = req.param("channel");
  if (!channel || channel_type(*channel) != ChannelType::Presence)
    return error(400, "channel must name a presence channel");
  return {200, "{\"users\":" + engine.directory().users(*app, *channel).value_or("[]") + "}"};
}

Response publish(Engine& engine, const Request& req) {
  json::Ptr body = json::parse(req.body);
  if (!cJSON_IsObject(body.get())) return error(400, "Body must be a JSON object with app, channel, event and data");
  auto id = json::string_member(body.get(), "app");
  Response refusal;
  std::string app_id(id.value_or(""));
  const App* app = app_named(engine, id ? &app_id : nullptr, refusal);
  if (!app) return refusal;
  auto channel = json::string_member(body.get(), "channel");
  auto event = json::string_member(body.get(), "event");
  auto data = json::string_member(body.get(), "data");
  if (!channel || !is_valid_channel_name(*channel, true)) return error(400, "channel must be a valid channel name");
  if (!event || event->empty() || event->size() > kMaxEventNameLength)
    return error(400, "event is required: a string of 1 to 200 characters");
  if (!data) return error(400, "data is required: a string");
  if (data->size() > app->max_event_data_bytes)
    return error(413, "data is larger than " + std::to_string(app->max_event_data_bytes) + " bytes");
  engine.publish(*app, *channel, *event, *data, "");
  return {};
}

Response authorize(const Engine& engine, const Request& req) {
  json::Ptr body = json::parse(req.body);
  if (!cJSON_IsObject(body.get())) return error(400, "Body must be a JSON object with app, socket_id and channel");
  auto id = json::string_member(body.get(), "app");
  Response refusal;
  std::string app_id(id.value_or(""));
  const App* app = app_named(engine, id ? &app_id : nullptr, refusal);
  if (!app) return refusal;
  auto socket_id = json::string_member(body.get(), "socket_id");
  auto channel = json::string_member(body.get(), "channel");
  if (!socket_id || !channel) return error(400, "socket_id and a valid channel are required");
  if (*channel == kDashboardChannel) {  // the page's live figures: signed with the admin token
    std::string out = "{\"auth\":";
    json::append_quoted(out, operator_channel_auth(app->key, *socket_id, *channel));
    return {200, out + "}"};
  }
  if (!is_valid_channel_name(*channel, false)) return error(400, "socket_id and a valid channel are required");
  // On a presence channel the console joins as the member "raptor-dashboard".
  std::optional<std::string_view> channel_data;
  if (channel_type(*channel) == ChannelType::Presence) channel_data = "{\"user_id\":\"raptor-dashboard\"}";
  std::string signed_string = signature::subscription_string_to_sign(*socket_id, *channel, channel_data);
  std::string out = "{\"auth\":";
  json::append_quoted(out, app->key + ":" + signature::hmac_sha256_hex(app->secret, signed_string));
  if (channel_data) {
    out += ",\"channel_data\":";
    json::append_quoted(out, *channel_data);
  }
  return {200, out + "}"};
}

Response api(Engine& engine, const Request& req, int64_t now_s) {
  if (auto refusal = refuse_admin(req)) return *refusal;
  std::string_view route = std::string_view(req.path).substr(kApi.size());
  bool get = req.method == "GET" || req.method == "HEAD";
  if (route == "overview") return get ? Response{200, dashboard_overview_json(engine, now_s)} : error(405, "Use GET");
  if (route == "roster") return get ? roster(engine, req) : error(405, "Use GET");
  if (route == "publish") return req.method == "POST" ? publish(engine, req) : error(405, "Use POST");
  if (route == "auth") return req.method == "POST" ? authorize(engine, req) : error(405, "Use POST");
  return error(404, "Unknown path");
}

}  // namespace

bool serve_dashboard(Engine& engine, const Request& req, int64_t now_s, const Respond& respond) {
  std::string_view path = req.path;
  if (path.substr(0, kRoot.size()) != kRoot) return false;
  if (path.size() > kRoot.size() && path[kRoot.size()] != '/') return false;  // e.g. /dashboards
  if (path.substr(0, kApi.size()) == kApi) return respond(api(engine, req, now_s)), true;
  std::string_view name = path.size() <= kRoot.size() + 1 ? "index.html" : path.substr(kRoot.size() + 1);
  if (req.method != "GET" && req.method != "HEAD") return respond(error(405, "Use GET")), true;
  auto found = asset(name);
  respond(found ? *found : error(404, "Unknown path"));
  return true;
}

}  // namespace raptor::http
