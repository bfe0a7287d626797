#include "protocol/admin_token.h"

#include "protocol/signature.h"

namespace raptor {
namespace {

std::string& token() {
  static std::string value;
  return value;
}

}  // namespace

void set_admin_token(std::string t) { token() = std::move(t); }

const std::string& admin_token() { return token(); }

std::string operator_channel_auth(std::string_view app_key, std::string_view socket_id, std::string_view channel) {
  if (token().empty()) return "";
  return std::string(app_key) + ":" +
         signature::hmac_sha256_hex(token(), signature::subscription_string_to_sign(socket_id, channel, std::nullopt));
}

bool operator_channel_auth_valid(std::string_view auth, std::string_view app_key, std::string_view socket_id,
                                 std::string_view channel) {
  return !token().empty() &&
         signature::verify_auth(auth, app_key, token(),
                                signature::subscription_string_to_sign(socket_id, channel, std::nullopt));
}

}  // namespace raptor
