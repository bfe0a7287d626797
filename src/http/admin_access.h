// Who may read the operator's pages (/metrics, the dashboard's data): whoever sends
// the admin token, as `Authorization: Bearer <token>` (docs/metrics.md#access). Without a token
// configured those pages are off (403), so that a fresh install exposes nothing.
// The token itself is kept in protocol/admin_token.h.
#pragma once
#include <optional>
#include <string>

#include "http/request.h"

namespace raptor::http {

constexpr size_t kMinAdminTokenLength = 16;

// Null when `req` carries the admin token, else the refusal: 403 when no token is configured,
// 401 (with WWW-Authenticate) when the request's is missing or wrong.
std::optional<Response> refuse_admin(const Request& req);

}  // namespace raptor::http
