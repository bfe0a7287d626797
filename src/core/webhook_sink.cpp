#include "core/webhook_sink.h"

namespace raptor {
namespace {

constexpr std::string_view kNames[kWebhookTypeCount] = {
    "channel_occupied", "channel_vacated", "member_added",       "member_removed",
    "client_event",     "cache_miss",      "subscription_count",
};

}  // namespace

std::string_view webhook_type_name(WebhookType t) { return kNames[static_cast<size_t>(t)]; }

std::optional<WebhookType> webhook_type_named(std::string_view name) {
  for (size_t i = 0; i < kWebhookTypeCount; ++i)
    if (kNames[i] == name) return static_cast<WebhookType>(i);
  return std::nullopt;
}

}  // namespace raptor
