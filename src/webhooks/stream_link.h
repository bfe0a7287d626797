// What the cluster's webhook stream (cluster/WebhookStream, docs/cluster.md#webhook-delivery) asks
// of the webhook queue, and all it may: the events to append, what comes back from the stream,
// and the entries settled here. Implemented by WebhookQueue; thread-safe, called on the sender's
// thread (use_stream() before workers run).
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "webhooks/webhook_stream_entry.h"

namespace raptor {

class StreamLink {
 public:
  virtual void use_stream() = 0;
  virtual void set_stream_up(bool up) = 0;
  // The events to append to the stream, in the order they became ready.
  virtual std::vector<StreamedWebhook> take_for_stream() = 0;
  // Events the stream could not append (Redis went away): this node delivers them.
  virtual void deliver_here(std::vector<StreamedWebhook> events) = 0;
  virtual void count_appended(size_t n) = 0;
  // Entry `id`, read (`claimed`: taken over from another consumer) from the stream: into the
  // outboxes here that want it. An entry held here already is not taken twice.
  virtual void deliver_streamed(const std::string& id, const StreamedWebhook& w, bool claimed) = 0;
  // An entry that is no webhook event (the caller logs why): settled and counted as dropped.
  virtual void discard_streamed(const std::string& id) = 0;
  // Entries whose every receiver's outcome here is final: to acknowledge.
  virtual std::vector<std::string> take_settled() = 0;
  virtual void count_acked(size_t n) = 0;
  // Entries held here still, being delivered.
  virtual std::vector<std::string> held_entries() const = 0;

 protected:
  ~StreamLink() = default;
};

}  // namespace raptor
