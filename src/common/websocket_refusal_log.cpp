#include "common/websocket_refusal_log.h"

#include "common/log.h"
#include "common/log_rate_limit.h"

namespace raptor::log {

namespace {

// One budget per worker for both kinds of line: a flood of either cannot bury the other's first lines.
bool may_log() {
  thread_local RateLimit limit(kWebSocketRefusalsPerSecond);
  return may_log_now(limit, "websocket", "refused or dropped connections");
}

}  // namespace

void websocket_refused(std::string_view client, int close_code, std::string_view reason) {
  if (may_log())
    info("websocket %s refused with %d: %s", for_log(client, 64).c_str(), close_code, for_log(reason).c_str());
}

void websocket_dropped(std::string_view socket_id, int close_code, std::string_view reason) {
  if (may_log())
    info("websocket %s closing with %d: %s", for_log(socket_id, 64).c_str(), close_code, for_log(reason).c_str());
}

}  // namespace raptor::log
