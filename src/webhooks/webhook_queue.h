// The webhook events of every app on their way to the receivers: where the parts meet, under one
// lock. Plain C++ with injected clocks; net/WebhookClient does the HTTP.
//
// Workers emit() events from their own threads (cheap: a lock, a filter, a string). An event goes
// through, in order:
// - the departure delay (departures.h): channel_vacated and member_removed wait for an arrival
//   that cancels them;
// - the cache_miss filter (cache_miss_filter.h): one per channel per window;
// - shaping (shaping_queue.h), for apps with a shape_webhook hook: the sender runs it (shape());
// - in a cluster, while its stream is up (stream_ledger.h, docs/cluster.md#webhook-delivery): the
//   Redis stream, so that another node delivers it if this one dies. What would join the outboxes
//   waits for take_for_stream() instead, and comes back from the stream, on whichever node read
//   it, through deliver_streamed(); its entry is settled (take_settled(), acknowledged in Redis)
//   once every receiver's outcome for it is final. While the stream is down, events join this
//   node's outboxes as without a cluster;
// - the outbox of each receiver that wants it (outbox.h): batches, retries, bounds.
//
// The sender (one thread) asks take_ready() for the POSTs to make now and reports each with
// finish() (sender_link.h). A reload (reconfigure) keeps the outbox of every receiver that is still configured the
// same, with what it holds; the outboxes of removed receivers are dropped, counted and logged.
#pragma once
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "core/app.h"
#include "core/policy.h"
#include "core/webhook_sink.h"
#include "webhooks/cache_miss_filter.h"
#include "webhooks/departures.h"
#include "webhooks/outbox.h"
#include "webhooks/sender_link.h"
#include "webhooks/shaping_queue.h"
#include "webhooks/stream_ledger.h"
#include "webhooks/stream_link.h"
#include "webhooks/webhook_settings.h"
#include "webhooks/webhook_stream_entry.h"

namespace raptor {

// The queue's callers each see the part of it they need, through an interface: the workers'
// engines emit through WebhookSink, the sender (net/WebhookClient) takes POSTs through SenderLink,
// the cluster's stream (cluster/WebhookStream) through StreamLink. What remains public here is the
// process's: building, reloading and shutting down (process/webhook_delivery.h).
class WebhookQueue : public WebhookSink, public SenderLink, public StreamLink {
 public:
  using Clock = std::function<int64_t()>;  // milliseconds

  // One outbox per endpoint of each app; `apps` outlives the queue. `steady` times the delays,
  // `wall` (Unix time) stamps the bodies' time_ms. Empty clocks use the system's.
  WebhookQueue(const AppList& apps, WebhookSettings settings, Clock steady = {}, Clock wall = {});

  // The receivers of `apps` as a reload left them: outboxes of unchanged receivers are kept
  // (a batch being retried is signed again, with the app's current secret), the others are
  // dropped. While no thread emits or sends.
  void reconfigure(const AppList& apps);
  // The apps whose events go through the shape_webhook hook. Before workers run, or while no
  // thread emits or sends.
  void shape_events_of(std::vector<const App*> apps);
  // What a draining server waits for before it exits (bounded): departures still in their delay,
  // events waiting for the shape hook, and what the outboxes hold, except those whose receiver
  // failed its last POST (waiting for them would mean waiting out their back-off).
  uint64_t flushable() const;
  // Shutting down: counts everything still waiting as dropped and logs it; returns how many.
  uint64_t abandon();

 private:
  // --- WebhookSink: any thread ---
  void emit(const App& app, WebhookEvent event) override;
  void emit_decided(const App& app, WebhookEvent event) override;
  WebhookStats stats() const override;

  // --- SenderLink: the sender's thread ---
  void on_wakeup(std::function<void()> wakeup) override { wakeup_ = std::move(wakeup); }
  void shape(Policy* policy) override;
  std::vector<WebhookRequest> take_ready() override;
  void finish(uint64_t id, int status, const std::string& error) override;
  int64_t next_due() override;
  int64_t now() const override { return steady_(); }

  // --- StreamLink: the cluster's stream, on the sender's thread ---
  void use_stream() override;
  void set_stream_up(bool up) override;
  std::vector<StreamedWebhook> take_for_stream() override;
  void deliver_here(std::vector<StreamedWebhook> events) override;
  void count_appended(size_t n) override;
  void deliver_streamed(const std::string& id, const StreamedWebhook& w, bool claimed) override;
  void discard_streamed(const std::string& id) override;
  std::vector<std::string> take_settled() override;
  void count_acked(size_t n) override;
  std::vector<std::string> held_entries() const override;

  // Puts a due event (past the departure delay and the cache_miss filter) on its way: to the
  // shape hook, the stream or the outboxes. True when the sender must look sooner than it was told.
  bool enqueue(const App& app, const WebhookEvent& e, int64_t now);
  // The same for an event past shaping: `formatted` is its JSON, or empty to format `*e`.
  bool enqueue_json(const App& app, WebhookType type, const std::string& channel, const std::string& formatted,
                    int64_t emitted_ms, const WebhookEvent* e);
  // Into the outboxes that want it; `entry`: its stream entry, if it came through the stream.
  // Returns the outboxes that took it, and in `wake` whether the sender must look sooner.
  size_t into_outboxes(const App& app, WebhookType type, const std::string& channel, const std::string& json,
                       int64_t emitted_ms, const std::string& entry, bool& wake);
  bool wanted(const App& app, WebhookType type, const std::string& channel) const;
  // The app a stream entry names, if it is served here.
  const App* served_app(const std::string& id) const;
  void take_due_departures(int64_t now);
  bool sooner(int64_t due);
  // Under the lock: events not delivered yet, of every outbox or only of those not failing.
  uint64_t count_undelivered(bool failing_too) const;

  const WebhookSettings settings_;
  const Clock steady_, wall_;
  std::function<void()> wakeup_;

  mutable std::mutex mutex_;
  WebhookStats stats_;
  StreamLedger ledger_;
  Outbox::Shared shared_{settings_, stats_, ledger_};
  std::vector<Outbox> outboxes_;
  Departures departures_;
  CacheMissFilter cache_misses_;
  ShapingQueue shaping_;
  uint64_t next_id_ = 1;
  int64_t promised_due_ = INT64_MAX;  // what next_due() last told the sender
  const AppList* apps_ = nullptr;
  bool stream_up_ = false;
};

}  // namespace raptor
