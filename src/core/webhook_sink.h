// What the core reports to webhook receivers, and the interface it reports through. The core
// says what happened (a channel became occupied, a member left, a client event was sent); the
// sink (webhooks/WebhookQueue) decides when and whether it is sent: delays, batching, retries.
// emit() is called from any worker thread, sometimes under the ChannelDirectory lock (so that
// the transitions of a channel arrive in the order they happened): it must be quick and must not
// call back into the core.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace raptor {

struct App;

// Pusher's webhook event types, by their wire names (webhook_type_name).
enum class WebhookType : uint8_t {
  ChannelOccupied,
  ChannelVacated,
  MemberAdded,
  MemberRemoved,
  ClientEvent,
  CacheMiss,
  SubscriptionCount,
};
constexpr size_t kWebhookTypeCount = 7;
constexpr uint32_t webhook_type_bit(WebhookType t) { return 1u << static_cast<unsigned>(t); }
// What a receiver gets unless it names its types: all but subscription_count, which comes with
// every (un)subscribe and is opt-in on Pusher too.
constexpr uint32_t kDefaultWebhookTypes =
    ((1u << kWebhookTypeCount) - 1) & ~webhook_type_bit(WebhookType::SubscriptionCount);

std::string_view webhook_type_name(WebhookType t);
std::optional<WebhookType> webhook_type_named(std::string_view name);

// One event; the fields its type uses are set (see webhooks/webhook_body.h for the JSON).
struct WebhookEvent {
  WebhookType type = WebhookType::ChannelOccupied;
  std::string channel{};
  std::string user_id{};    // member events; client events on presence channels
  std::string event{};      // client_event: the event name
  std::string data{};       // client_event: the data as sent (JSON text)
  std::string socket_id{};  // client_event: the sender
  size_t subscription_count = 0;
};

// Counters since start, in events (retried: in delivery attempts after the first).
struct WebhookStats {
  uint64_t queued = 0;   // accepted for a receiver (once per receiver that wants it)
  uint64_t sent = 0;     // delivered with a 2xx answer
  uint64_t retried = 0;  // POSTs repeated after a failure
  uint64_t dropped = 0;  // given up: queue full, refused with 4xx, retries exhausted, shutdown
  uint64_t filtered = 0;  // dropped on purpose by the shape_webhook hook (once per event, not per receiver)
  // channel_occupied + channel_vacated pairs left untold (counted as two events): a brief
  // occupation, or any when the receiver's queue is full (docs/webhooks.md)
  uint64_t coalesced = 0;
  uint64_t pending = 0;  // waiting or being sent now
  uint64_t oldest_age_ms = 0;  // how long the oldest of those has waited since it was emitted
  // In a cluster, the Redis stream the events pass through (docs/cluster.md#webhook-delivery).
  struct Stream {
    bool used = false;       // this node is one of a cluster
    bool up = false;         // events go through the stream now (else this node delivers its own)
    uint64_t appended = 0;   // events this node added to the stream
    uint64_t read = 0;       // entries this node read from it
    uint64_t claimed = 0;    // entries this node took over from a dead or stalled node
    uint64_t acked = 0;      // entries this node acknowledged (every receiver's outcome final)
    uint64_t local = 0;      // events this node delivered itself because the stream was down
  } stream{};
};

class WebhookSink {
 public:
  virtual ~WebhookSink() = default;
  virtual void emit(const App& app, WebhookEvent event) = 0;
  // An event the cluster decided (docs/cluster.md#occupancy-and-webhooks): a departure whose
  // delay passed in Redis, an arrival that cancelled none there. Sent as it is, without this
  // node's departure delay or cancelling.
  virtual void emit_decided(const App& app, WebhookEvent event) { emit(app, std::move(event)); }
  virtual WebhookStats stats() const = 0;
};

}  // namespace raptor
