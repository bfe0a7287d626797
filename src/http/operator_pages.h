// The operator's pages, beside the Pusher API: GET /metrics (Prometheus) behind the admin token
// (admin_access.h), and the stats API signed with an app's key (stats_api.h). api.cpp hands each
// request here first.
#pragma once
#include <cstdint>
#include <string>

#include "core/engine.h"
#include "http/api.h"

namespace raptor::http {

// Names the apps' metric labels and sets the admin token: at start-up and on each reload, while
// no worker serves a request.
void configure_operator_pages(const AppList& apps, const std::string& admin_token);

// True when `req` is for one of these pages: then `respond` has been (or will be) called.
bool serve_operator_page(Engine& engine, const Request& req, int64_t now_s, const Respond& respond);

}  // namespace raptor::http
