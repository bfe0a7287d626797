// The events of apps that have a shape_webhook hook, waiting for it (docs/webhooks.md): they stop
// here once each (not once per receiver), after the departure delay and the cache_miss filter,
// and the sender runs the hook on them (run_hook, on its own thread, which owns a Ruby VM), which
// answers the event, another one, or nothing. Receivers still choose by the event's original
// type and channel. A hook that fails leaves the event as it was: a webhook is a notification,
// and a bug in the hook should not silently cost the receiver its events.
// Bounded: when the hook cannot keep up, new events are dropped (counted by the caller, logged
// here once per overflow). Not thread-safe: WebhookQueue guards it; run_hook needs no lock.
#pragma once
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "core/app.h"
#include "core/policy.h"
#include "core/webhook_sink.h"

namespace raptor {

class ShapingQueue {
 public:
  struct Event {
    const App* app;
    WebhookType type;
    std::string channel;  // the receivers' filters apply to the original type and channel
    int64_t emitted_ms;
    std::string json;  // webhook_body::event_json, then what the hook answered
  };

  explicit ShapingQueue(size_t limit) : limit_(limit) {}

  // The apps whose events go through the hook.
  void shape_events_of(std::vector<const App*> apps) { apps_ = std::move(apps); }
  bool shapes(const App& app) const;
  // Holds `e` for the hook; false when full and `e` was dropped.
  bool hold(Event e);
  // Everything held, oldest first, for run_hook.
  std::deque<Event> take_all();
  size_t size() const { return waiting_.size(); }
  // When the oldest event was emitted; INT64_MAX when none waits.
  int64_t oldest_ms() const { return waiting_.empty() ? INT64_MAX : waiting_.front().emitted_ms; }
  void clear() { waiting_.clear(); }

  // Runs the hook of `policy` (null: none) on `events`, rewriting them in place and taking out
  // those it dropped; returns how many it dropped. Without the queue's lock: the hook may take
  // its time budget.
  static size_t run_hook(Policy* policy, std::deque<Event>& events);

 private:
  size_t limit_;
  std::vector<const App*> apps_;
  std::deque<Event> waiting_;
  uint64_t overflowed_ = 0;  // dropped because it was full, not yet logged
};

}  // namespace raptor
