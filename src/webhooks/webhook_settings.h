// How webhooks are batched, delayed, retried and bounded; one set for the whole server.
// docs/webhooks.md explains each default.
#pragma once
#include <cstddef>
#include <cstdint>

namespace raptor {

struct WebhookSettings {
  int64_t batch_ms = 50;            // a batch leaves this long after its first event...
  size_t max_batch_events = 100;    // ...or as soon as it has this many
  int64_t departure_delay_ms = 3000;  // channel_vacated / member_removed wait this long
  int64_t cache_miss_window_ms = 1000;  // one cache_miss per channel in this window
  int64_t retry_base_ms = 1000;     // first retry after this, doubling each time...
  int64_t retry_max_ms = 60000;     // ...up to this per wait,
  int64_t retry_for_ms = 300000;    // while the batch's oldest event is younger than this
  int64_t timeout_ms = 4000;        // a POST without a complete answer by then has failed
  size_t queue_limit = 10000;       // events waiting per receiver; more are dropped (counted)
  // In a cluster (docs/cluster.md#webhook-delivery):
  size_t stream_max_entries = 100000;  // the Redis stream is trimmed to about this many entries
  int64_t claim_after_ms = 30000;   // entries a node has left pending this long are another node's
};

}  // namespace raptor
