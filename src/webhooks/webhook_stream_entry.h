// A webhook event as it travels through the cluster's Redis stream (docs/cluster.md#webhook-delivery):
// ready to go (past the departure delay, the cache_miss de-duplication and the shape_webhook hook)
// and formatted, with what any node needs to put it into its own receivers' outboxes. The entry's
// fields are (name, value) pairs, as XADD takes them and XREADGROUP gives them back. Plain C++.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/webhook_sink.h"

namespace raptor {

struct StreamedWebhook {
  std::string app_id;
  WebhookType type = WebhookType::ClientEvent;
  std::string channel;  // receivers choose by the original type and channel (shaping keeps them)
  std::string json;     // the event as receivers get it (webhook_body::event_json, or shaped)
  int64_t emitted_ms = 0;  // Unix time it was emitted: its retries end retry_for after this
  std::string origin;      // the node that emitted it (for logs)
};

using StreamFields = std::vector<std::pair<std::string, std::string>>;

// The entry's fields: v (format version, 1), app, type, channel, event, at, node.
StreamFields encode_stream_entry(const StreamedWebhook& w);
// The event in `fields`, or nothing and in `why` what is wrong (a missing or bad field, another
// format version). Fields it does not know are ignored.
std::optional<StreamedWebhook> decode_stream_entry(const StreamFields& fields, std::string& why);

}  // namespace raptor
