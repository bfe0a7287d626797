// The bytes waiting in every connection's send queue, over every worker of the process, for the
// process-wide ceiling (--max-send-queue-total, docs/security.md#limits). Counting must not cost
// the hot path: each worker thread adds to its own slot (one writer: a relaxed load and store,
// no lock prefix, as metrics/counters.h does), and the total is the sum over the slots, read by
// the worker's sweep ten times a second, never per frame. Threads that are no worker (unit tests,
// the main thread) count into a slot of their own that the total ignores.
#pragma once
#include <cstddef>
#include <cstdint>

namespace raptor::send_queues {

// The calling thread counts into worker `index`'s slot from now on; a worker calls it when its
// loop starts.
void attach(size_t index);
// Queued bytes on this thread's connections went up (or down, negative) by `bytes`.
void add(int64_t bytes);
// Over every worker.
int64_t total();
// This worker's largest queue as of its last sweep (0: under the ceiling), and the largest over
// every worker: the size class a worker's sweep starts closing from (ConnectionSweeps).
void set_largest(size_t bytes);
size_t largest();

}  // namespace raptor::send_queues
