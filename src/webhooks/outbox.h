// One webhook receiver's outbox (docs/webhooks.md): the events it wants, in the order they were
// emitted, sent one batch at a time: up to max_batch_events events, leaving batch_ms after its
// first event or as soon as it is full. A batch that fails (no answer, timeout, 5xx, 429) is sent
// again, the same body, after a back-off (retry_policy.h), and the events behind it wait: a
// receiver gets its events in order, and each at most once unless it fails to answer a batch it
// did take. A batch is given up when an attempt fails after its oldest event has waited
// retry_for_ms; one refused with another 4xx is given up at once.
//
// Bounded: it holds at most queue_limit events; when full, the cheapest waiting event makes room
// for a dearer one, or what arrives is dropped (WaitingEvents has the order). A channel_vacated
// whose channel_occupied still waits unsent (a brief occupation, or any when full) takes it out
// and is not sent either: the pair is "coalesced". Every drop is counted and logged, and each
// event that came through the cluster's stream is settled in the ledger once its outcome here is
// final. Not thread-safe: WebhookQueue guards it.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/app.h"
#include "core/webhook_endpoint.h"
#include "core/webhook_sink.h"
#include "webhooks/stream_ledger.h"
#include "webhooks/waiting_events.h"
#include "webhooks/webhook_body.h"
#include "webhooks/webhook_settings.h"

namespace raptor {

// A POST for the sender to make.
struct WebhookRequest {
  uint64_t id = 0;
  const App* app = nullptr;
  const WebhookEndpoint* endpoint = nullptr;
  std::string body;
  webhook_body::Headers headers;
  int attempt = 1;
};

class Outbox {
 public:
  // What the outboxes of a queue share; it outlives them.
  struct Shared {
    const WebhookSettings& settings;
    WebhookStats& stats;
    StreamLedger& ledger;
  };

  // `name` is for logs: "webhook 1 (http://127.0.0.1:9000) of app a".
  Outbox(const App& app, WebhookEndpoint endpoint, std::string name, Shared& shared);

  const App* app() const { return app_; }
  const WebhookEndpoint& endpoint() const { return endpoint_; }
  const std::string& name() const { return name_; }
  bool wants(const App& app, WebhookType type, const std::string& channel) const {
    return app_ == &app && endpoint_.wants(type, channel);
  }
  // After a reload that kept it: its new name, and a batch not yet delivered goes out (again)
  // signed with the app's secret as it is now.
  void reconfigured(std::string name);

  // Takes an event it wants (`entry`: its stream entry, if it came through the stream). False
  // when it is not queued: dropped, or coalesced with its channel_occupied.
  bool put(WebhookType type, const std::string& channel, const std::string& json, int64_t emitted_ms,
           const std::string& entry);
  // The POST to make now, if any; `next_id` numbers the requests of every outbox.
  std::optional<WebhookRequest> next_request(int64_t now, int64_t wall_now, uint64_t& next_id);
  // How request `id` ended (the HTTP status, or 0 and why there was none); false when it is not
  // this outbox's request on its way.
  bool finish(uint64_t id, int status, const std::string& error, int64_t now);
  // When next_request will next have something (INT64_MAX: not before an event comes).
  int64_t due() const;
  // Events held: waiting, and in the batch.
  size_t held() const { return waiting_.size() + (batch_ ? batch_->events : 0); }
  // When the oldest event it holds was emitted; 0 when it holds none.
  int64_t oldest_ms() const {
    if (batch_) return batch_->oldest_ms;
    return waiting_.empty() ? 0 : waiting_.front().emitted_ms;
  }
  // The last attempt failed (a drain does not wait out its back-off).
  bool failing() const { return failing_; }
  // Removed by a reload: every event it holds is settled (the caller counts them).
  void settle_all();
  // Shutting down: forgets what it holds (the caller counts it).
  void clear();

 private:
  struct Batch {
    WebhookRequest request;
    size_t events = 0;
    std::vector<std::string> entries{};  // of its events that came through the stream
    int64_t oldest_ms = 0;  // when its first event was emitted
    int64_t retry_at_ms = 0;
  };

  // A channel_vacated that is not to be sent: its channel_occupied was dropped, or is still
  // waiting and goes with it (docs/webhooks.md#when-a-receiver-falls-behind).
  bool vacated_unheard(const std::string& channel, int64_t emitted_ms);
  // An event is dropped before it was sent (counted; a channel_occupied's vacated follows).
  void dropped_unsent(const WaitingEvent& e);
  void drop_expired(int64_t now);
  // The batch's outcome is final: settles its entries.
  void batch_done();

  const App* app_;
  WebhookEndpoint endpoint_;  // a copy: a reload replaces the app's
  std::string name_;
  Shared* shared_;
  WaitingEvents waiting_;
  std::optional<Batch> batch_;  // being sent, or waiting for its retry
  bool in_flight_ = false;
  bool failing_ = false;     // the last attempt failed
  uint64_t overflowed_ = 0;  // dropped because full, not yet logged
  // Channels whose channel_occupied was dropped before it was sent: their channel_vacated is
  // dropped too, so that the receiver hears of neither.
  std::unordered_set<std::string> unheard_;
};

}  // namespace raptor
