#include "http/request_auth.h"

#include <algorithm>
#include <string_view>

#include "protocol/signature.h"

namespace raptor::http {

namespace {

using Params = std::vector<std::pair<std::string_view, std::string_view>>;

// The query sorted by name. Names are compared as given: check_query_form admits only the
// lower-case names Pusher's SDKs send, so lower-casing them here would change nothing.
Params sorted_params(const Request& req) {
  Params params(req.query.begin(), req.query.end());
  std::sort(params.begin(), params.end());
  return params;
}

const std::string_view* find(const Params& params, std::string_view key) {
  for (const auto& kv : params)
    if (kv.first == key) return &kv.second;
  return nullptr;
}

std::string string_to_sign(const Request& req, const Params& params) {
  size_t size = req.method.size() + req.path.size() + 2;
  for (const auto& [k, v] : params) size += k.size() + v.size() + 2;
  std::string out;
  out.reserve(size);
  out.append(req.method).append("\n").append(req.path).append("\n");
  bool first = true;
  for (const auto& [k, v] : params) {
    if (k == "auth_signature") continue;
    if (!first) out += '&';
    first = false;
    out.append(k).append("=").append(v);
  }
  return out;
}

}  // namespace

std::string string_to_sign(const Request& req) { return string_to_sign(req, sorted_params(req)); }

std::optional<std::string> verify_request(const App& app, const Request& req, int64_t now_s) {
  auto params = sorted_params(req);
  const std::string_view* key = find(params, "auth_key");
  const std::string_view* timestamp = find(params, "auth_timestamp");
  const std::string_view* version = find(params, "auth_version");
  const std::string_view* sig = find(params, "auth_signature");
  if (!key || !timestamp || !sig) return "Missing auth_key, auth_timestamp or auth_signature";
  if (version && *version != "1.0") return "Version not supported: auth_version must be 1.0";
  if (!signature::constant_time_equal(*key, app.key)) return "Unknown auth_key";

  std::string timestamp_text(*timestamp);
  char* end = nullptr;
  long long ts = std::strtoll(timestamp_text.c_str(), &end, 10);
  if (timestamp->empty() || *end != '\0') return "auth_timestamp must be a Unix time in seconds";
  if (ts >= now_s + kTimestampWindowSeconds || ts <= now_s - kTimestampWindowSeconds)
    return "Timestamp expired: given timestamp (" + timestamp_text + ") not within 600s of server time (" +
           std::to_string(now_s) + ")";

  // A body_md5 that is signed must be the body's, also for an empty body: else it would be a free
  // value in the signed string.
  const std::string_view* md5 = find(params, "body_md5");
  if (!md5 && !req.body.empty()) return "body_md5 is required for a request with a body";
  if (md5 && !signature::constant_time_equal(*md5, signature::md5_hex(req.body))) return "body_md5 does not match the body";
  std::string signed_string = string_to_sign(req, params);
  if (!signature::constant_time_equal(*sig, signature::hmac_sha256_hex(app.secret, signed_string)))
    return "Invalid signature: you should have sent HmacSHA256Hex(\"" + signed_string + "\", your_secret_key)";
  return std::nullopt;
}

}  // namespace raptor::http
