// The dashboard (docs/metrics.md#dashboard): a page served from the binary at /dashboard, and the
// JSON it reads, behind the admin token:
//   GET  /dashboard, /dashboard/{file}   the page and its script and style (nothing secret)
//   GET  /dashboard/api/overview         health, the node, every app's statistics, webhooks
//   GET  /dashboard/api/roster?app=&channel=   a presence channel's members
//   POST /dashboard/api/publish          {app, channel, event, data}: the debug console's publish
//   POST /dashboard/api/auth             {app, socket_id, channel}: a subscription signature, so
//                                        the debug console may watch private channels too
// The page watches channels over raptor's own WebSocket, as any Pusher client does.
#pragma once
#include <cstdint>

#include "core/engine.h"
#include "http/api.h"

namespace raptor::http {

// True when `req` is for the dashboard: then `respond` has been called.
bool serve_dashboard(Engine& engine, const Request& req, int64_t now_s, const Respond& respond);

}  // namespace raptor::http
