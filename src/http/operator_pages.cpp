#include "http/operator_pages.h"

#include "http/admin_access.h"
#include "http/dashboard.h"
#include "http/stats_api.h"
#include "metrics/counters.h"
#include "metrics/exposition.h"
#include "metrics/scrape.h"
#include "protocol/admin_token.h"

namespace raptor::http {

void configure_operator_pages(const AppList& apps, const std::string& admin_token) {
  metrics::Registry::instance().name_apps(apps);
  raptor::set_admin_token(admin_token);
}

bool serve_operator_page(Engine& engine, const Request& req, int64_t now_s, const Respond& respond) {
  // The Pusher API's own paths (/apps/{id}/events on every publish) pass with one look each.
  std::string_view path = req.path;  // string_view: its comparisons are inlined
  if (path.size() > 6 && path.substr(path.size() - 6) == "/stats") {
    auto stats = stats_request(engine, req, now_s);
    return stats && (respond(*stats), true);
  }
  if (serve_dashboard(engine, req, now_s, respond)) return true;
  if (path != "/metrics") return false;
  if (req.method != "GET" && req.method != "HEAD") {
    Response r = error(405, "Use GET, HEAD");
    r.headers.emplace_back("Allow", "GET, HEAD");
    respond(r);
    return true;
  }
  if (auto refusal = refuse_admin(req)) {
    respond(*refusal);
    return true;
  }
  Response r{200, metrics::scrape(engine, now_s)};
  r.content_type = metrics::kExpositionContentType;
  respond(r);
  return true;
}

}  // namespace raptor::http
