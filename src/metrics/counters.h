// What the server counts, per worker thread, for /metrics (docs/metrics.md).
//
// Counting must not cost the hot path: each worker thread writes only its own block of counters,
// with plain loads and stores (relaxed atomics with one writer compile to an ordinary add, no
// lock prefix, no fence), and a scrape sums every block. A counter may be read a moment stale;
// it is never torn. Threads that are not workers (the main thread while it loads raptor.rb, unit
// tests) count into a block of their own that no scrape reads.
//
// Labels are bounded here, by construction: apps beyond kLabeledApps share the label "_other",
// close codes and HTTP statuses outside the known lists share "other". Channel names never
// become labels (docs/metrics.md#cardinality).
#pragma once
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/app.h"

namespace raptor::metrics {

// One writer (its worker thread), any number of readers.
class Counter {
 public:
  void add(uint64_t n = 1) { n_.store(n_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  uint64_t value() const { return n_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> n_{0};
};

// Counted once per worker, without a label.
enum class Count : uint8_t {
  BytesIn,         // WebSocket message payloads received
  BytesOut,        // frames queued to WebSocket clients
  FramesOut,       // frames queued to WebSocket clients (events, errors, pongs)
  HookCalls,       // raptor.rb hook and rule calls
  HookErrors,      // calls that raised (timeouts apart)
  HookTimeouts,    // calls stopped at their time budget
  HookMicros,      // time spent in them
  RedisLinksLost,  // Redis connections lost while up (each is then made again)
  SendQueueCeilingCloses,  // clients closed with 4100 because the process's send queues were full
  kCount
};

// Counted per app.
enum class AppCount : uint8_t {
  ConnectionsOpened,
  ConnectionsClosed,
  ClientEvents,   // client events accepted and sent on
  ApiEvents,      // events published through the HTTP API (one per channel)
  ApiEventsRefused,  // events refused over the app's api_events_per_second (429)
  kCount
};

// The labels the bounded lists give; their last entry is "other".
constexpr size_t kLabeledApps = 32;
constexpr size_t kOtherApps = kLabeledApps - 1;  // the slot of "_other": the apps past the first 31
const std::vector<int>& known_close_codes();  // 0: closed by the client or the network
const std::vector<int>& known_http_statuses();
// Upper bounds (seconds) of the HTTP request duration histogram; +Inf is implied.
const std::vector<double>& http_duration_buckets();
// Upper bounds (seconds) of the Redis script round-trip histogram; +Inf is implied.
const std::vector<double>& redis_script_buckets();

// A duration histogram counted by one worker: a count per bucket (not cumulative; after the
// bounds' own, +Inf) and the sum.
struct Durations {
  std::array<Counter, 16> per_bucket;
  Counter micros;
  void observe(const std::vector<double>& bounds, int64_t micros);
  void add(const Durations& other);
};

struct alignas(64) WorkerCounters {
  std::array<Counter, size_t(Count::kCount)> counts;
  std::array<std::array<Counter, size_t(AppCount::kCount)>, kLabeledApps> apps;
  std::array<Counter, 24> closes_by_code;  // known_close_codes() then "other"
  std::array<Counter, 24> refusals_by_code;  // WebSocket requests refused at admission, likewise
  std::array<Counter, 24> http_by_status;  // known_http_statuses() then "other"
  Durations http_duration;  // http_duration_buckets()
  Durations redis_script;   // redis_script_buckets()
};

// Every worker's block, for the scrape to sum. One per process.
class Registry {
 public:
  static Registry& instance();
  // Gives the calling thread worker `index`'s block (made on first use); a worker calls it when
  // its loop starts.
  void attach(size_t index);
  // The apps' labels: slot i is the i-th app of the list (AppList never reorders or removes
  // one). Call while no worker serves or all are paused (start-up, reload).
  void name_apps(const AppList& apps);
  // The app's slot; kOtherApps for apps past the first ones.
  size_t slot_of(const App& app) const;
  std::string app_label(size_t slot) const;
  size_t labeled_apps() const { return labeled_; }  // slots 0 .. labeled_apps() - 1 name one app
  // Every app, as named last (null before).
  const AppList* apps() const { return apps_list_; }
  // The sum over every worker's block.
  std::unique_ptr<WorkerCounters> sum() const;
  // Connections of the app's slot open now on every worker, and the most there were at once.
  uint64_t open_connections(size_t slot) const;
  uint64_t peak_connections(size_t slot) const { return peaks_[slot].load(std::memory_order_relaxed); }
  // After a connection opened: raises the slot's peak to what is open now.
  void note_peak(size_t slot);

  static constexpr size_t kMaxWorkers = 64;  // as many as --workers allows

 private:
  std::mutex attach_mutex_;  // guards owned_
  std::vector<std::unique_ptr<WorkerCounters>> owned_;
  // Made by attach() and kept for the life of the process; read by any thread without a lock.
  std::array<std::atomic<WorkerCounters*>, kMaxWorkers> blocks_{};
  std::array<std::atomic<uint64_t>, kLabeledApps> peaks_{};
  std::array<const App*, kLabeledApps> apps_{};
  std::array<std::string, kLabeledApps> labels_{};
  size_t labeled_ = 0;
  const AppList* apps_list_ = nullptr;
};

// This thread's block.
WorkerCounters& here();

// --- the one-line calls the counted code makes ---
inline void count(Count c, uint64_t n = 1) { here().counts[size_t(c)].add(n); }
inline void count(const App& app, AppCount c, uint64_t n = 1) {
  here().apps[Registry::instance().slot_of(app)][size_t(c)].add(n);
}
void connection_opened(const App& app);
inline void frame_out(size_t bytes) {
  WorkerCounters& w = here();
  w.counts[size_t(Count::FramesOut)].add();
  w.counts[size_t(Count::BytesOut)].add(bytes);
}
void connection_closed(const App& app, int close_code);
void connection_refused(int close_code);  // a WebSocket request refused (core/admission.h)
int64_t steady_us();  // a monotonic clock for durations
// Times one raptor.rb hook call and counts how it ended.
class HookTimer {
 public:
  HookTimer();
  void done(bool ok, bool timed_out);

 private:
  int64_t began_us_;
};
// An HTTP answer, `micros` after its request was read in full.
void http_answered(int status, int64_t micros);
// A Redis script's answer, `micros` after its call was sent (cluster/script_queue.h).
inline void redis_script_answered(int64_t micros) { here().redis_script.observe(redis_script_buckets(), micros); }

}  // namespace raptor::metrics
