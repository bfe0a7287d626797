#include "process/node_drain.h"

#include <atomic>
#include <chrono>
#include <csignal>
#include <thread>

#include "cluster/redis_bus.h"
#include "common/log.h"
#include "common/watchdog.h"

namespace raptor::process {
namespace {

// Once its WebSockets have closed, how long a draining node waits at most for its HTTP answers,
// Redis's answers to its presence and occupancy changes and its webhooks (whose departures wait
// 3 s, and a POST up to --webhook-timeout-ms).
constexpr int64_t kFinishMs = 10000;

}  // namespace

DrainTally NodeDrain::tally() const {
  std::vector<const DrainProgress*> progress;
  for (const auto& d : drains_) progress.push_back(&d->progress());
  return DrainTally::of(progress, webhooks_());
}

void NodeDrain::run(int period_s, const Signals& signals, WatchdogFeeder& watchdog) {
  using Clock = std::chrono::steady_clock;
  auto started = Clock::now();
  auto seconds = [&started] { return std::chrono::duration<double>(Clock::now() - started).count(); };
  int64_t period_ms = int64_t(period_s) * 1000;
  log::info("drain (SIGTERM): not accepting connections; closing the WebSocket clients with 4200 over %d s, then "
            "exiting (SIGTERM or SIGINT again exits at once)",
            period_s);
  for (size_t i = 0; i < workers_.size(); ++i) {
    WorkerDrain* drain = drains_[i].get();
    workers_[i]->run_on_thread([drain, period_ms] { drain->begin(period_ms); });
  }
  // Until every WebSocket has closed, the period and the closing handshakes' own time-out (5 s)
  // bound the wait; then the rest has kFinishMs.
  auto deadline = started + std::chrono::milliseconds(period_ms + kFinishMs);
  bool closed_logged = false;
  for (;;) {
    DrainTally t = tally();
    if (t.sockets_closed() && !closed_logged) {
      log::info("drain: %zu WebSocket connections closed with 4200 in %.1f s; %zu HTTP requests, %zu cluster changes "
                "and %llu webhook events to finish",
                t.closed, seconds(), t.http, t.cluster_changes, static_cast<unsigned long long>(t.webhooks));
      closed_logged = true;
      deadline = Clock::now() + std::chrono::milliseconds(kFinishMs);
    }
    if (t.settled()) {
      release_lease();
      log::info("drain: done in %.1f s", seconds());
      return;
    }
    if (Clock::now() > deadline) {
      log::warn("drain: stopped waiting after %.1f s: %zu connections still closing, %zu HTTP requests unanswered, "
                "%zu cluster changes unanswered by Redis (their members and subscriptions stay counted there "
                "until the node's lease lapses), %llu webhook events undelivered",
                seconds(), t.connections, t.http, t.cluster_changes, static_cast<unsigned long long>(t.webhooks));
      return;
    }
    watchdog.feed(service::monotonic_ms());  // systemd keeps watching while the service stops
    int sig = signals.wait_for(100);
    if (sig == SIGTERM || sig == SIGINT) {
      log::warn("drain: %s during the drain: exiting at once (%zu connections not closed with 4200)",
                signal_name(sig), tally().connections);
      return;
    }
    if (sig == SIGHUP) log::warn("reload (SIGHUP) ignored: the server is draining");
  }
}

void NodeDrain::release_lease() {
  if (!cluster_ || workers_.empty()) return;
  auto released = std::make_shared<std::atomic<bool>>(false);
  net::Worker& worker = *workers_.front();
  auto done = [released] { released->store(true); };
  bool posted = worker.run_on_thread([cluster = cluster_, done] {
    if (cluster::RedisBus* bus = cluster->bus())
      bus->release_lease(done);
    else
      done();
  });
  if (!posted) return;
  for (int i = 0; i < 20 && !released->load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
}

}  // namespace raptor::process
