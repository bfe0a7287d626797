// An HTTP request and response as the API sees them, independent of the server library.
#pragma once
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace raptor::http {

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string path;    // decoded, without the query
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in arrival order
  std::string body;
  // What proxies wrote about the client (common/client_address.h), repeated fields joined by ','.
  std::string x_forwarded_for, forwarded;
  std::string authorization;  // the Authorization header field: the admin pages' token (admin_access.h)

  const std::string* param(const std::string& key) const {
    for (const auto& kv : query)
      if (kv.first == key) return &kv.second;
    return nullptr;
  }
};

struct Response {
  int status = 200;
  std::string body = "{}";  // JSON unless content_type says otherwise
  std::vector<std::pair<std::string, std::string>> headers{};  // beyond the usual ones
  const char* content_type = "application/json";
};

// {"error":message} with `status` (validation.cpp).
Response error(int status, std::string_view message);

}  // namespace raptor::http
