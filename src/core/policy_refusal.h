// The client-facing text of a hook's refusal, the same for every hook: the hook's reason, or a
// generic one when it gave none or failed (its error is in the log, not for the client).
#pragma once
#include <string>
#include <string_view>

#include "core/policy.h"

namespace raptor {

// `what`: "Connection", "Subscription", "Client event".
std::string policy_refusal(std::string_view what, const PolicyVerdict& v);

}  // namespace raptor
