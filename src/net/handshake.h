// Reads what a WebSocket request showed (origin, query, headers, peer address) for the policy's
// hooks; only called when the engine has a policy.
#pragma once
#include <memory>

#include "core/policy.h"

struct lws;

namespace raptor::net {

std::unique_ptr<Handshake> read_handshake(lws* wsi);

}  // namespace raptor::net
