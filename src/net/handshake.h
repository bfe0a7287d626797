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

// The client's address (common/client_address.h): the TCP peer, or `bridged_peer` when it reached
// lws through a bridge (http_connection.h), or behind `trusted` proxies the one their `header` names.
std::string websocket_client_address(lws* wsi, const std::optional<std::string>& bridged_peer,
                                     const std::vector<AddressRange>& trusted, ForwardedHeader header);

// `remote_address`: websocket_client_address's answer.
std::unique_ptr<Handshake> read_handshake(lws* wsi, std::string remote_address);

}  // namespace raptor::net
