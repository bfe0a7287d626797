#include "core/dashboard_watchers.h"

#include "protocol/admin_token.h"
#include "protocol/channel_kind.h"
#include "protocol/errors.h"

namespace raptor {

std::optional<SubscriptionRefusal> DashboardWatchers::watch(Connection& c, const std::string& channel,
                                                            std::optional<std::string_view> auth) {
  if (channel != kDashboardChannel)
    return SubscriptionRefusal{"InvalidChannel", 404, code(ErrorCode::InvalidChannel),
                               "No such channel: #raptor- names are raptor's own, and " +
                                   std::string(kDashboardChannel) + " is the only one"};
  // The same answer whether no token is configured or the signature is wrong: a client learns
  // nothing of the operator's set-up.
  if (!operator_channel_auth_valid(auth.value_or(""), c.app().key, c.socket_id(), channel))
    return SubscriptionRefusal{"AuthError", 401, code(ErrorCode::Unauthorized),
                               std::string(kDashboardChannel) +
                                   " is the operator's: its signature is made with the admin token by "
                                   "/dashboard/api/auth, never with an app's secret"};
  watchers_.insert(&c);
  return std::nullopt;
}

}  // namespace raptor
