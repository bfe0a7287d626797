// Whether a pusher:signin signs its connection in: it carries data.auth and data.user_data, the
// app's signature of "<socket_id>::user::<user_data>" (as the client sent the string), and
// user_data is valid within the app's limits (protocol/user_data.h). Pure: the engine signs the
// connection in (core/user_sessions.h), or tells the client the refusal.
#pragma once
#include <optional>
#include <string>

#include "core/connection.h"
#include "protocol/user_data.h"

namespace raptor {

namespace messages {
struct ClientMessage;
}

// What a refused pusher:signin is told: pusher:error `code` and the message.
struct SigninRefusal {
  int code = 0;
  std::string message;
};

// Null, with `user` read from user_data, when `m` signs `c` in.
std::optional<SigninRefusal> signin_refusal(const Connection& c, const messages::ClientMessage& m, UserData& user);

}  // namespace raptor
