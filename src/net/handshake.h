// Reads what a WebSocket request showed (origin, query, headers, peer address) for the policy's
// hooks; only called when the engine has a policy.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/client_address.h"
#include "core/policy.h"

struct lws;

namespace raptor::net {

// `bridged_peer`: the client's address when it reached lws through a bridge (http_connection.h).
// `trusted_proxies`: peers whose X-Forwarded-For names the client (common/client_address.h).
std::unique_ptr<Handshake> read_handshake(lws* wsi, const std::optional<std::string>& bridged_peer,
                                          const std::vector<AddressRange>& trusted_proxies);

}  // namespace raptor::net
