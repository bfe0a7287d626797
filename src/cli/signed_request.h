// A request to the HTTP API signed the way Pusher's server SDKs sign it (auth_key,
// auth_timestamp, auth_version, body_md5 over a body, auth_signature), with the server's own
// string to sign (http::string_to_sign), so the client and the server cannot disagree on it.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/app.h"
#include "http/request.h"

namespace raptor::cli {

// `path` and `query` are decoded (as the server sees them); the auth parameters are added.
http::Request signed_request(const App& app, std::string method, std::string path,
                             std::vector<std::pair<std::string, std::string>> query, std::string body,
                             int64_t now_s);

// The request's path and query as they go on the wire: percent-encoded, '/' kept in the path.
std::string request_target(const http::Request& req);

// Every byte but A-Z a-z 0-9 - . _ ~ (and those in `keep`) as %XX.
std::string percent_encode(std::string_view text, std::string_view keep = {});

}  // namespace raptor::cli
