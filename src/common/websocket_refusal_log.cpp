#include "common/websocket_refusal_log.h"

#include <chrono>

#include "common/log.h"
#include "common/log_rate_limit.h"

namespace raptor::log {

void websocket_refused(std::string_view client, int close_code, std::string_view reason) {
  thread_local RateLimit limit(kWebSocketRefusalsPerSecond);
  auto now = std::chrono::steady_clock::now().time_since_epoch();
  uint64_t held_back = 0;
  if (!limit.allow(std::chrono::duration_cast<std::chrono::milliseconds>(now).count(), held_back)) return;
  if (held_back)
    info("websocket: %llu more refused connections were not logged (over %u a second)",
         static_cast<unsigned long long>(held_back), kWebSocketRefusalsPerSecond);
  info("websocket %s refused with %d: %s", for_log(client, 64).c_str(), close_code, for_log(reason).c_str());
}

}  // namespace raptor::log
