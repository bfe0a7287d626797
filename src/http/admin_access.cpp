#include "http/admin_access.h"

#include "protocol/admin_token.h"
#include "protocol/signature.h"

namespace raptor::http {

std::optional<Response> refuse_admin(const Request& req) {
  const std::string& token = admin_token();
  if (token.empty()) return error(403, "The admin pages are off: set admin_token in raptor.rb or --admin-token");
  constexpr std::string_view kBearer = "Bearer ";
  std::string_view given = req.authorization;
  bool bearer = given.size() > kBearer.size() && given.compare(0, kBearer.size(), kBearer) == 0;
  if (bearer && signature::constant_time_equal(given.substr(kBearer.size()), token)) return std::nullopt;
  Response r = error(401, bearer ? "Wrong admin token" : "Send the admin token: Authorization: Bearer <token>");
  r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"raptor\"");
  return r;
}

}  // namespace raptor::http
