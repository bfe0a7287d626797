// In a cluster (docs/cluster.md#webhook-delivery), the node's account of the Redis stream that
// webhook events pass through on their way to the outboxes, so that another node delivers them
// if this one dies: the events waiting to be appended, and the entries read from the stream and
// held here until every receiver's outcome for them is final (sent, refused, given up, dropped):
// then they are settled, to be acknowledged in Redis. At shutdown the entries still held are not
// settled: they stay pending in Redis for another node. Not thread-safe: WebhookQueue guards it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "webhooks/webhook_stream_entry.h"

namespace raptor {

class StreamLedger {
 public:
  // --- events on their way into the stream ---
  void append_later(StreamedWebhook w) { for_stream_.push_back(std::move(w)); }
  std::vector<StreamedWebhook> take_for_stream();
  size_t waiting() const { return for_stream_.size(); }
  void drop_waiting() { for_stream_.clear(); }

  // --- entries read from it ---
  bool holds(const std::string& id) const { return held_.count(id) != 0; }
  // Entry `id` goes to `receivers` outboxes here; it is held until each settled it, and one
  // settle() more (for the putting in itself, during which a full outbox settles at once).
  void hold(const std::string& id, size_t receivers) { held_[id] = receivers + 1; }
  // One receiver's outcome for `entry` is final (an empty entry: an event not from the stream).
  void settle(const std::string& entry);
  // Settled at once: no receiver here gets it.
  void settle_now(const std::string& id) { settled_.push_back(id); }
  bool has_settled() const { return !settled_.empty(); }
  std::vector<std::string> take_settled();
  std::vector<std::string> held_entries() const;
  size_t held() const { return held_.size(); }

  // --- entries not delivered here, logged once ---
  // Of an app, or of types or channels, that no receiver here wants (a node configured otherwise).
  void log_unwanted(const StreamedWebhook& w);
  // Read after their retry period (a consumer group made again over an old stream).
  void log_expired(const std::string& id, int64_t age_ms);

 private:
  std::vector<StreamedWebhook> for_stream_;
  std::unordered_map<std::string, size_t> held_;  // entry id -> settles still owed
  std::vector<std::string> settled_;             // to acknowledge
  std::vector<std::string> unknown_apps_;        // named by unwanted entries, logged once each
  uint64_t expired_ = 0;
};

}  // namespace raptor
