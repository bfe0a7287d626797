#include "cli/signed_request.h"

#include "http/request_auth.h"
#include "protocol/signature.h"

namespace raptor::cli {

http::Request signed_request(const App& app, std::string method, std::string path,
                             std::vector<std::pair<std::string, std::string>> query, std::string body,
                             int64_t now_s) {
  http::Request req{std::move(method), std::move(path), std::move(query), std::move(body)};
  req.query.emplace_back("auth_key", app.key);
  req.query.emplace_back("auth_timestamp", std::to_string(now_s));
  req.query.emplace_back("auth_version", "1.0");
  if (!req.body.empty()) req.query.emplace_back("body_md5", signature::md5_hex(req.body));
  req.query.emplace_back("auth_signature", signature::hmac_sha256_hex(app.secret, http::string_to_sign(req)));
  return req;
}

std::string percent_encode(std::string_view text, std::string_view keep) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                 c == '.' || c == '_' || c == '~' || keep.find(char(c)) != std::string_view::npos;
    if (plain) {
      out += char(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string request_target(const http::Request& req) {
  std::string out = percent_encode(req.path, "/");
  char separator = '?';
  for (const auto& [k, v] : req.query) {
    out += separator;
    out += percent_encode(k) + "=" + percent_encode(v);
    separator = '&';
  }
  return out;
}

}  // namespace raptor::cli
