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
// queue_limit events; when it is full the cheapest waiting event makes room for a dearer one, or
// what arrives is dropped (WaitingEvents has the order). A channel_vacated whose
// channel_occupied still waits unsent (a brief occupation, or any when full) takes it out and is
// not sent either: the pair is "coalesced". Every drop is counted and logged.
//
// Shaping: the events of apps that have a shape_webhook hook (shape_events_of) stop on their way,
// once each (not once per receiver), after the departure delay and the cache_miss de-duplication:
// the sender runs the hook on them (shape(), on its own thread, which owns a Ruby VM) and queues
// what it answers: the event, another one, or nothing. Receivers still choose by the event's
// original type and channel. A hook that fails leaves the event as it was: a webhook is a
// notification, and a bug in the hook should not silently cost the receiver its events.
//
// A reload (reconfigure) keeps the outbox of every receiver that is still configured the same,
// with what it holds; the outboxes of removed receivers are dropped, counted and logged.
//
// In a cluster (docs/cluster.md#webhook-delivery) events ready to go pass through a Redis stream
// on their way to the outboxes, so that another node delivers them if this one dies: while the
// stream is up, what would join the outboxes waits for take_for_stream() instead, and comes back
// from the stream, on whichever node read it, through deliver_streamed(). Each such event carries
// its entry id; once every receiver's outcome for it is final (sent, refused, given up, dropped)
// the entry is settled (take_settled(), acknowledged in Redis). At shutdown the entries still
// held are not settled: they stay pending in Redis for another node. While the stream is down,
// events join this node's outboxes as without a cluster.
#pragma once
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/app.h"
#include "core/policy.h"
#include "core/webhook_sink.h"
#include "webhooks/departures.h"
#include "webhooks/waiting_events.h"
#include "webhooks/webhook_body.h"
#include "webhooks/webhook_settings.h"
#include "webhooks/webhook_stream_entry.h"

namespace raptor {

class WebhookQueue : public WebhookSink {
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

  // Any thread.
  void emit(const App& app, WebhookEvent event) override;
  void emit_decided(const App& app, WebhookEvent event) override;
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
  // Runs the shape_webhook hook of `policy` (null: none) on the events waiting for it, and queues
  // the results. Called by the sender before take_ready(), on its thread.
  void shape(Policy* policy);
  // The POSTs to make now (at most one per receiver).
  std::vector<Request> take_ready();
  // How request `id` ended: the HTTP status, or 0 and why there was none.
  void finish(uint64_t id, int status, const std::string& error);
  // When take_ready() will next have something (INT64_MAX: not before an emit wakes the sender).
  int64_t next_due();
  int64_t now() const { return steady_(); }
  // What a draining server waits for before it exits (bounded): departures still in their delay,
  // events waiting for the shape hook, and what the outboxes hold, except those whose receiver
  // failed its last POST (waiting for them would mean waiting out their back-off).
  uint64_t flushable() const;
  // Shutting down: counts everything still waiting as dropped and logs it; returns how many.
  uint64_t abandon();

  // --- the cluster's stream; the sender's thread (use_stream() before workers run) ---
  void use_stream();
  void set_stream_up(bool up);
  // The events to append to the stream, in the order they became ready.
  std::vector<StreamedWebhook> take_for_stream();
  // Events the stream could not append (Redis went away): this node delivers them.
  void deliver_here(std::vector<StreamedWebhook> events);
  void count_appended(size_t n);
  // Entry `id`, read (`claimed`: taken over from another consumer) from the stream: into the
  // outboxes here that want it. An entry held here already is not taken twice.
  void deliver_streamed(const std::string& id, const StreamedWebhook& w, bool claimed);
  // An entry that is no webhook event (the caller logs why): settled and counted as dropped.
  void discard_streamed(const std::string& id);
  // Entries whose every receiver's outcome here is final: to acknowledge.
  std::vector<std::string> take_settled();
  void count_acked(size_t n);
  // Entries held here still, being delivered.
  std::vector<std::string> held_entries() const;

 private:
  struct Batch {
    Request request;
    size_t events = 0;
    std::vector<std::string> entries{};  // of its events that came through the stream
    int64_t oldest_ms = 0;  // when its first event was emitted
    int64_t retry_at_ms = 0;
  };
  struct Unshaped {  // an event waiting for the shape_webhook hook
    const App* app;
    WebhookType type;
    std::string channel;  // the receivers' filters apply to the original type and channel
    int64_t emitted_ms;
    std::string json;
  };
  struct Outbox {
    const App* app;
    WebhookEndpoint endpoint;  // a copy: a reload replaces the app's
    std::string name;  // for logs: "webhook 1 (http://127.0.0.1:9000) of app a"
    WaitingEvents waiting{};
    std::optional<Batch> batch{};  // being sent, or waiting for its retry
    bool in_flight = false;
    bool failing = false;        // the last attempt failed
    uint64_t overflowed = 0;     // dropped because full, not yet logged
    // Channels whose channel_occupied was dropped before it was sent: their channel_vacated is
    // dropped too, so that the receiver hears of neither.
    std::unordered_set<std::string> unheard{};
    size_t held() const { return waiting.size() + (batch ? batch->events : 0); }
  };

  // Puts a due event into the outboxes that want it; true when one of them must be looked at
  // sooner than the sender was told.
  bool enqueue(const App& app, const WebhookEvent& e, int64_t now);
  // The same for an event formatted already (shaped), emitted at `emitted_ms`.
  // With `json` empty, formats `*e`. While the stream is up, it waits for the stream instead.
  bool enqueue_json(const App& app, WebhookType type, const std::string& channel, const std::string& json,
                    int64_t emitted_ms, const WebhookEvent* e);
  // Into the outboxes that want it; `entry`: its stream entry, if it came through the stream.
  // Returns the outboxes that took it, and in `wake` whether the sender must look sooner.
  size_t into_outboxes(const App& app, WebhookType type, const std::string& channel, const std::string& json,
                       int64_t emitted_ms, const std::string& entry, bool& wake);
  bool wanted(const App& app, WebhookType type, const std::string& channel) const;
  // A channel_vacated for `o` that is not to be sent: its channel_occupied was dropped, or is
  // still waiting and goes with it (docs/webhooks.md#when-a-receiver-falls-behind).
  bool vacated_unheard(Outbox& o, const std::string& channel, int64_t emitted_ms);
  // An event of `o` is dropped before it was sent (counted; a channel_occupied's vacated follows).
  void dropped_unsent(Outbox& o, const WaitingEvent& e);
  // One receiver's outcome for the event of `entry` is final.
  void settle(const std::string& entry);
  void settle_all(const Outbox& o);
  void take_due_departures(int64_t now);
  bool first_cache_miss(const App& app, const std::string& channel, int64_t now);
  void drop_expired(Outbox& o, int64_t now);
  std::optional<Request> next_request(Outbox& o, int64_t now);
  int64_t due_of(const Outbox& o) const;
  bool sooner(int64_t due);
  // Under the lock: events not delivered yet, of every outbox or only of those not failing.
  uint64_t count_undelivered(bool failing_too) const;

  const WebhookSettings settings_;
  const Clock steady_, wall_;
  std::function<void()> wakeup_;

  mutable std::mutex mutex_;
  std::vector<Outbox> outboxes_;
  std::vector<const App*> shaped_apps_;
  std::deque<Unshaped> unshaped_;  // at most settings_.queue_limit
  uint64_t unshaped_overflowed_ = 0;  // dropped because it was full, not yet logged
  Departures departures_;
  std::unordered_map<std::string, int64_t> cache_misses_;  // channel key -> when last sent
  uint64_t next_id_ = 1;
  int64_t promised_due_ = INT64_MAX;  // what next_due() last told the sender
  WebhookStats stats_;
  const AppList* apps_ = nullptr;
  bool stream_up_ = false;
  std::vector<StreamedWebhook> for_stream_;
  std::unordered_map<std::string, size_t> held_;  // stream entry id -> receivers here not yet final
  std::vector<std::string> settled_;  // entries to acknowledge
  std::vector<std::string> unknown_apps_;  // named by stream entries, logged once each
  uint64_t expired_streamed_ = 0;  // stream entries read after their retry period
};

}  // namespace raptor
