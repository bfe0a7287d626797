// What the webhook sender (net/WebhookClient, on worker 0's thread) asks of the webhook queue, and
// all it may: the POSTs to make and when, how each ended, and the shape_webhook hook's turn.
// Implemented by WebhookQueue; thread-safe.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/policy.h"
#include "webhooks/outbox.h"

namespace raptor {

class SenderLink {
 public:
  // Called (from the emitting thread, without the queue's lock) when an emit made work due sooner
  // than the sender was told by next_due(). Set before workers run, cleared after they stop.
  virtual void on_wakeup(std::function<void()> wakeup) = 0;
  // Runs the shape_webhook hook of `policy` (null: none) on the events waiting for it, and queues
  // the results. Called before take_ready(), on the thread that owns `policy`.
  virtual void shape(Policy* policy) = 0;
  // The POSTs to make now (at most one per receiver).
  virtual std::vector<WebhookRequest> take_ready() = 0;
  // How request `id` ended: the HTTP status, or 0 and why there was none.
  virtual void finish(uint64_t id, int status, const std::string& error) = 0;
  // When take_ready() will next have something (INT64_MAX: not before an emit wakes the sender).
  virtual int64_t next_due() = 0;
  // The queue's clock (ms), which next_due() is on.
  virtual int64_t now() const = 0;

 protected:
  ~SenderLink() = default;
};

}  // namespace raptor
