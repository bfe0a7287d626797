// The operator's admin token (docs/metrics.md#access), and the signature it makes for a
// subscription to one of raptor's own channels (#raptor-…, channel_kind.h): the dashboard's live
// figures ride the Pusher protocol on such a channel, so the token, not an app's secret, must
// open it. An app's server signs with its secret and can never produce this signature.
// The token is set on the main thread at start-up and by a reload, while no worker reads it.
#pragma once
#include <string>
#include <string_view>

namespace raptor {

void set_admin_token(std::string token);
// Empty when none is configured (the operator's pages are off).
const std::string& admin_token();

// "<app_key>:<hex HMAC-SHA256 of "{socket_id}:{channel}" keyed by the admin token>"; empty
// without a token.
std::string operator_channel_auth(std::string_view app_key, std::string_view socket_id, std::string_view channel);
// Whether `auth` is that signature; false without a token.
bool operator_channel_auth_valid(std::string_view auth, std::string_view app_key, std::string_view socket_id,
                                 std::string_view channel);

}  // namespace raptor
