// Pusher's signed-query authentication of HTTP API requests:
// auth_signature = hex HMAC-SHA256(secret, METHOD \n PATH \n params sorted by name), params
// decoded but not re-escaped, body_md5 over the raw body, timestamp within 600 s. The query is
// expected in the form http/query_form.h checks (lower-case names, each once), the form the SDKs
// send.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "core/app.h"
#include "http/request.h"

namespace raptor::http {

constexpr int64_t kTimestampWindowSeconds = 600;

// nullopt when `req` is correctly signed for `app` at wall-clock time `now_s`; else why not.
std::optional<std::string> verify_request(const App& app, const Request& req, int64_t now_s);

// The string a client signs for `req` (all params but auth_signature).
std::string string_to_sign(const Request& req);

}  // namespace raptor::http
