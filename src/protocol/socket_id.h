// Socket ids: two decimal integers joined by a dot ("123.456"). The Pusher server SDKs reject
// any other shape when they sign a subscription or exclude a socket from an event.
#pragma once
#include <string_view>

namespace raptor {

bool is_valid_socket_id(std::string_view socket_id);

}  // namespace raptor
