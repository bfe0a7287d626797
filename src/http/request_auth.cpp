#include "http/request_auth.h"

#include <algorithm>
#include <cctype>

#include "protocol/signature.h"

namespace raptor::http {

namespace {

// The query with lower-cased names, sorted: names are case-insensitive in Pusher's scheme.
std::vector<std::pair<std::string, std::string>> normalized_params(const Request& req) {
  std::vector<std::pair<std::string, std::string>> params;
  for (const auto& [k, v] : req.query) {
    std::string key = k;
    std::transform(key.begin(), key.end(), key.begin(), [](unsigned char ch) { return std::tolower(ch); });
    params.emplace_back(std::move(key), v);
  }
  std::sort(params.begin(), params.end());
  return params;
}

const std::string* find(const std::vector<std::pair<std::string, std::string>>& params, const char* key) {
  for (const auto& kv : params)
    if (kv.first == key) return &kv.second;
  return nullptr;
}

}  // namespace

std::string string_to_sign(const Request& req) {
  auto params = normalized_params(req);
  params.erase(std::remove_if(params.begin(), params.end(), [](const auto& kv) { return kv.first == "auth_signature"; }),
               params.end());
  std::string out = req.method + "\n" + req.path + "\n";
  for (size_t i = 0; i < params.size(); ++i) {
    if (i) out += '&';
    out += params[i].first + "=" + params[i].second;
  }
  return out;
}

std::optional<std::string> verify_request(const App& app, const Request& req, int64_t now_s) {
  auto params = normalized_params(req);
  const std::string* key = find(params, "auth_key");
  const std::string* timestamp = find(params, "auth_timestamp");
  const std::string* version = find(params, "auth_version");
  const std::string* sig = find(params, "auth_signature");
  if (!key || !timestamp || !sig) return "Missing auth_key, auth_timestamp or auth_signature";
  if (version && *version != "1.0") return "Version not supported: auth_version must be 1.0";
  if (!signature::constant_time_equal(*key, app.key)) return "Unknown auth_key";

  char* end = nullptr;
  long long ts = std::strtoll(timestamp->c_str(), &end, 10);
  if (timestamp->empty() || *end != '\0') return "auth_timestamp must be a Unix time in seconds";
  if (ts >= now_s + kTimestampWindowSeconds || ts <= now_s - kTimestampWindowSeconds)
    return "Timestamp expired: given timestamp (" + *timestamp + ") not within 600s of server time (" +
           std::to_string(now_s) + ")";

  if (!req.body.empty()) {
    const std::string* md5 = find(params, "body_md5");
    if (!md5) return "body_md5 is required for a request with a body";
    if (!signature::constant_time_equal(*md5, signature::md5_hex(req.body)))
      return "body_md5 does not match the body";
  }
  std::string signed_string = string_to_sign(req);
  if (!signature::constant_time_equal(*sig, signature::hmac_sha256_hex(app.secret, signed_string)))
    return "Invalid signature: you should have sent HmacSHA256Hex(\"" + signed_string + "\", your_secret_key)";
  return std::nullopt;
}

}  // namespace raptor::http
