// Reads what a WebSocket request showed (origin, query, headers, peer address) for the policy's
// hooks; only called when the engine has a policy.
#pragma once
#include <memory>
#include <optional>
#include <string>

#include "core/policy.h"

struct lws;

namespace raptor::net {

// `bridged_peer`: the client's address when it reached lws through a bridge (http_connection.h).
std::unique_ptr<Handshake> read_handshake(lws* wsi, const std::optional<std::string>& bridged_peer);

}  // namespace raptor::net
