// The dashboard (docs/metrics.md#dashboard): a page served from the binary at /dashboard, and the
// JSON it reads, behind the admin token:
//   GET  /dashboard, /dashboard/{file}   the page and its script and style (nothing secret)
//   GET  /dashboard/api/overview         health, the node, every app's statistics, webhooks: read
//                                        once at sign-in; then the same comes once a second as
//                                        the event "overview" on #raptor-dashboard (feed_dashboard)
//   GET  /dashboard/api/roster?app=&channel=   a presence channel's members
//   POST /dashboard/api/publish          {app, channel, event, data}: the debug console's publish
//   POST /dashboard/api/auth             {app, socket_id, channel}: a subscription signature, so
//                                        the debug console may watch private channels too, and
//                                        the page its live figures on #raptor-dashboard (signed
//                                        with the admin token: protocol/admin_token.h)
// The page watches channels and its figures over raptor's own WebSocket, as any Pusher client does.
#pragma once
#include <cstdint>
#include <string>

#include "core/engine.h"
#include "http/api.h"

namespace raptor::http {

// The overview's JSON: health, the node (and the cluster's nodes), every app's statistics, webhooks.
std::string dashboard_overview_json(const Engine& engine, int64_t now_s);
// Once a second on each worker: sends the overview to this worker's #raptor-dashboard watchers,
// when it has any (nothing is built otherwise).
void feed_dashboard(Engine& engine, int64_t now_s);

// True when `req` is for the dashboard: then `respond` has been called.
bool serve_dashboard(Engine& engine, const Request& req, int64_t now_s, const Respond& respond);

}  // namespace raptor::http
