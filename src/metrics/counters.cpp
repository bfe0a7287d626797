#include "metrics/counters.h"

#include <algorithm>
#include <chrono>

namespace raptor::metrics {
namespace {

// A thread that is no worker counts here, unread (see counters.h).
thread_local WorkerCounters unattached;
thread_local WorkerCounters* current = &unattached;

// The slot of `value` in `known`, or the "other" slot after them.
size_t slot_in(const std::vector<int>& known, int value) {
  auto it = std::find(known.begin(), known.end(), value);
  return size_t(it - known.begin());
}

}  // namespace

const std::vector<int>& known_close_codes() {
  // docs/protocol.md#close-codes; 1000/1001 for a client's own normal close; 0 for none at all.
  static const std::vector<int> kCodes{0, 1000, 1001, 1006, 1009, 4001, 4004, 4005, 4006, 4007, 4008, 4009, 4100, 4101, 4102, 4200, 4201};
  return kCodes;
}

const std::vector<int>& known_http_statuses() {
  static const std::vector<int> kStatuses{200, 202, 204, 304, 400, 401, 403, 404, 405, 408,
                                          411, 413, 414, 415, 417, 429, 431, 500, 501, 503, 505};
  return kStatuses;
}

const std::vector<double>& http_duration_buckets() {
  static const std::vector<double> kBuckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
  return kBuckets;
}

const std::vector<double>& redis_script_buckets() {
  // A script answers in ~0.1-1 ms on a quiet Redis; the upper buckets show a Redis that stalls.
  static const std::vector<double> kBuckets{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1};
  return kBuckets;
}

void Durations::observe(const std::vector<double>& bounds, int64_t us) {
  double seconds = double(us) / 1e6;
  size_t b = size_t(std::find_if(bounds.begin(), bounds.end(), [&](double le) { return seconds <= le; }) - bounds.begin());
  per_bucket[b].add();
  micros.add(uint64_t(std::max<int64_t>(us, 0)));
}

void Durations::add(const Durations& other) {
  for (size_t i = 0; i < per_bucket.size(); ++i) per_bucket[i].add(other.per_bucket[i].value());
  micros.add(other.micros.value());
}

Registry& Registry::instance() {
  static Registry registry;
  return registry;
}

void Registry::attach(size_t index) {
  std::lock_guard<std::mutex> lock(attach_mutex_);
  WorkerCounters* block = blocks_.at(index).load();
  if (!block) {
    owned_.push_back(std::make_unique<WorkerCounters>());
    blocks_[index].store(block = owned_.back().get());
  }
  current = block;
}

void Registry::name_apps(const AppList& apps) {
  apps_list_ = &apps;
  labeled_ = std::min(apps.size(), kOtherApps);
  for (size_t i = 0; i < labeled_; ++i) {
    apps_[i] = &apps[i];
    labels_[i] = apps[i].id;
  }
}

size_t Registry::slot_of(const App& app) const {
  for (size_t i = 0; i < labeled_; ++i)
    if (apps_[i] == &app) return i;
  return kOtherApps;
}

std::string Registry::app_label(size_t slot) const { return slot < labeled_ ? labels_[slot] : "_other"; }

std::unique_ptr<WorkerCounters> Registry::sum() const {
  auto add = [](auto& into, const auto& from) {
    for (size_t i = 0; i < from.size(); ++i) into[i].add(from[i].value());
  };
  auto total = std::make_unique<WorkerCounters>();
  for (const auto& slot : blocks_) {
    const WorkerCounters* b = slot.load();
    if (!b) continue;
    add(total->counts, b->counts);
    for (size_t a = 0; a < kLabeledApps; ++a) add(total->apps[a], b->apps[a]);
    add(total->closes_by_code, b->closes_by_code);
    add(total->refusals_by_code, b->refusals_by_code);
    add(total->http_by_status, b->http_by_status);
    total->http_duration.add(b->http_duration);
    total->redis_script.add(b->redis_script);
  }
  return total;
}

uint64_t Registry::open_connections(size_t slot) const {
  uint64_t opened = 0, closed = 0;
  for (const auto& block : blocks_) {
    const WorkerCounters* b = block.load();
    if (!b) continue;
    // Closed first: a connection counted closed is always counted opened too, so the difference
    // never goes below zero however the two reads interleave with the workers.
    closed += b->apps[slot][size_t(AppCount::ConnectionsClosed)].value();
    opened += b->apps[slot][size_t(AppCount::ConnectionsOpened)].value();
  }
  return opened > closed ? opened - closed : 0;
}

void Registry::note_peak(size_t slot) {
  uint64_t now = open_connections(slot);
  std::atomic<uint64_t>& peak = peaks_[slot];
  uint64_t seen = peak.load(std::memory_order_relaxed);
  while (now > seen && !peak.compare_exchange_weak(seen, now, std::memory_order_relaxed)) {}
}

WorkerCounters& here() { return *current; }

void connection_opened(const App& app) {
  Registry& r = Registry::instance();
  size_t slot = r.slot_of(app);
  here().apps[slot][size_t(AppCount::ConnectionsOpened)].add();
  r.note_peak(slot);  // a connection opens far less often than an event passes
}

void connection_closed(const App& app, int close_code) {
  if (app.key.empty()) return;  // refused at the handshake (Engine::open_refused): never opened
  count(app, AppCount::ConnectionsClosed);
  here().closes_by_code[slot_in(known_close_codes(), close_code)].add();
}

void connection_refused(int close_code) { here().refusals_by_code[slot_in(known_close_codes(), close_code)].add(); }

int64_t steady_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

HookTimer::HookTimer() : began_us_(steady_us()) {}

void HookTimer::done(bool ok, bool timed_out) {
  WorkerCounters& w = here();
  w.counts[size_t(Count::HookCalls)].add();
  if (timed_out) w.counts[size_t(Count::HookTimeouts)].add();
  else if (!ok) w.counts[size_t(Count::HookErrors)].add();
  w.counts[size_t(Count::HookMicros)].add(uint64_t(std::max<int64_t>(steady_us() - began_us_, 0)));
}

void http_answered(int status, int64_t micros) {
  WorkerCounters& w = here();
  w.http_by_status[slot_in(known_http_statuses(), status)].add();
  w.http_duration.observe(http_duration_buckets(), micros);
}

}  // namespace raptor::metrics
