// WebSocket connections refused before they are served (an unknown app key, 4001; the admit
// hook's deny, 4009; a bad path or protocol version), and served ones that raptor drops for
// falling behind (4100), go to the log with their close code and reason, at info level and at
// most kLinesPerSecond a second per worker together, as refused HTTP requests do
// (docs/security.md#logs): a client cannot flood the log with them.
#pragma once
#include <cstdint>
#include <string_view>

namespace raptor::log {

constexpr uint32_t kWebSocketRefusalsPerSecond = 10;

// "websocket 203.0.113.7 refused with 4001: Application does not exist", `client` being the
// client's address (common/client_address.h). Called on the worker's thread that refused it.
void websocket_refused(std::string_view client, int close_code, std::string_view reason);

// "websocket 1234.5678 closing with 4100: Client too slow: send queue full", logged when the
// close is decided: the client sees the close frame only once it reads what was sent before it.
void websocket_dropped(std::string_view socket_id, int close_code, std::string_view reason);

}  // namespace raptor::log
