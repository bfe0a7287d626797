// When a webhook POST has worked, when it is worth repeating, and how long to wait before
// repeating it: exponential back-off from retry_base_ms, doubling, each wait capped at
// retry_max_ms (defaults 1 s, 2 s, 4 s … 32 s, then 60 s), no jitter (one sender per receiver).
#pragma once
#include <cstdint>

#include "webhooks/webhook_settings.h"

namespace raptor {

enum class DeliveryOutcome {
  Delivered,  // 2xx
  Rejected,   // the receiver answered but will not take it (4xx but 429, 3xx: not followed)
  Failed,     // no answer, a timeout, 5xx or 429: try again later
};

inline DeliveryOutcome classify_status(int status) {
  if (status >= 200 && status < 300) return DeliveryOutcome::Delivered;
  if (status == 0 || status == 429 || status >= 500) return DeliveryOutcome::Failed;
  return DeliveryOutcome::Rejected;
}

// The wait after the `failures`-th failed attempt of a batch (1 for the first).
inline int64_t retry_delay_ms(const WebhookSettings& s, int failures) {
  int64_t delay = s.retry_base_ms;
  for (int i = 1; i < failures && delay < s.retry_max_ms; ++i) delay *= 2;
  return delay < s.retry_max_ms ? delay : s.retry_max_ms;
}

}  // namespace raptor
