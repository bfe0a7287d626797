// The webhook events of every app on their way to the receivers. Plain C++ with injected clocks;
// net/WebhookClient does the HTTP.
//
// Workers emit() events from their own threads (cheap: a lock, a filter, a string). Each
// receiver (WebhookEndpoint) has an outbox: the events it wants, in the order they were emitted.
// Departures (channel_vacated, member_removed) join the outboxes only when their delay has passed
// without an arrival cancelling them. cache_miss is sent once per channel per window.
//
// The sender (one thread) asks take_ready() for the POSTs to make now and reports each with
// finish(). An outbox sends one batch at a time: up to max_batch_events events, leaving batch_ms
// after its first event or as soon as it is full. A batch that fails (no answer, timeout, 5xx,
// 429) is sent again, the same body, after a back-off (retry_policy.h), and the events behind it
// wait: a receiver gets its events in order, and each at most once unless it fails to answer a
// batch it did take. A batch is given up when an attempt fails after its oldest event has waited
// retry_for_ms; one refused with another 4xx is given up at once. An outbox holds at most
// queue_limit events; what arrives beyond is dropped. Every drop is counted and logged.
#pragma once
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/app.h"
#include "core/webhook_sink.h"
#include "webhooks/departures.h"
#include "webhooks/webhook_body.h"
#include "webhooks/webhook_settings.h"

namespace raptor {

class WebhookQueue : public WebhookSink {
 public:
  using Clock = std::function<int64_t()>;  // milliseconds

  // One outbox per endpoint of each app; `apps` outlives the queue. `steady` times the delays,
  // `wall` (Unix time) stamps the bodies' time_ms. Empty clocks use the system's.
  WebhookQueue(const std::vector<App>& apps, WebhookSettings settings, Clock steady = {}, Clock wall = {});

  // Any thread.
  void emit(const App& app, WebhookEvent event) override;
  WebhookStats stats() const override;

  // Called (from the emitting thread, without the lock) when an emit() made work due sooner
  // than the sender was told by next_due(). Set before workers run, cleared after they stop.
  void on_wakeup(std::function<void()> wakeup) { wakeup_ = std::move(wakeup); }

  // --- the sender's side ---
  struct Request {
    uint64_t id = 0;
    const App* app = nullptr;
    const WebhookEndpoint* endpoint = nullptr;
    std::string body;
    webhook_body::Headers headers;
    int attempt = 1;
  };
  // The POSTs to make now (at most one per receiver).
  std::vector<Request> take_ready();
  // How request `id` ended: the HTTP status, or 0 and why there was none.
  void finish(uint64_t id, int status, const std::string& error);
  // When take_ready() will next have something (INT64_MAX: not before an emit wakes the sender).
  int64_t next_due();
  int64_t now() const { return steady_(); }
  // Shutting down: counts everything still waiting as dropped and logs it; returns how many.
  uint64_t abandon();

 private:
  struct Waiting {
    int64_t emitted_ms;
    std::string json;  // webhook_body::event_json
  };
  struct Batch {
    Request request;
    size_t events = 0;
    int64_t oldest_ms = 0;  // when its first event was emitted
    int64_t retry_at_ms = 0;
  };
  struct Outbox {
    const App* app;
    const WebhookEndpoint* endpoint;
    std::string name;  // for logs: "webhook 1 (http://127.0.0.1:9000)"
    std::deque<Waiting> waiting{};
    std::optional<Batch> batch{};  // being sent, or waiting for its retry
    bool in_flight = false;
    bool failing = false;        // the last attempt failed
    uint64_t overflowed = 0;     // dropped because full, not yet logged
    size_t held() const { return waiting.size() + (batch ? batch->events : 0); }
  };

  // Puts a due event into the outboxes that want it; true when one of them must be looked at
  // sooner than the sender was told.
  bool enqueue(const App& app, const WebhookEvent& e, int64_t now);
  bool first_cache_miss(const App& app, const std::string& channel, int64_t now);
  void drop_expired(Outbox& o, int64_t now);
  std::optional<Request> next_request(Outbox& o, int64_t now);
  int64_t due_of(const Outbox& o) const;
  bool sooner(int64_t due);

  const WebhookSettings settings_;
  const Clock steady_, wall_;
  std::function<void()> wakeup_;

  mutable std::mutex mutex_;
  std::vector<Outbox> outboxes_;
  Departures departures_;
  std::unordered_map<std::string, int64_t> cache_misses_;  // channel key -> when last sent
  uint64_t next_id_ = 1;
  int64_t promised_due_ = INT64_MAX;  // what next_due() last told the sender
  WebhookStats stats_;
};

}  // namespace raptor
