#include "core/signin_check.h"

#include "protocol/errors.h"
#include "protocol/messages.h"
#include "protocol/signature.h"

namespace raptor {

std::optional<SigninRefusal> signin_refusal(const Connection& c, const messages::ClientMessage& m, UserData& user) {
  if (!m.data_is_object || !m.auth || !m.user_data)
    return SigninRefusal{code(ErrorCode::InvalidMessage),
                         "pusher:signin needs data.auth and data.user_data (a JSON string)"};
  const App& app = c.app();
  std::string to_sign = signature::signin_string_to_sign(c.socket_id(), *m.user_data);
  if (!signature::verify_auth(*m.auth, app.key, app.secret, to_sign))
    return SigninRefusal{code(ErrorCode::Unauthorized),
                         "Invalid signature: expected HMAC-SHA256 of \"" + to_sign + "\" as key:hex"};
  if (auto why = parse_user_data(*m.user_data, {app.max_user_id_length, app.max_user_info_bytes}, user))
    return SigninRefusal{code(ErrorCode::InvalidUserData), *why};
  return std::nullopt;
}

}  // namespace raptor
