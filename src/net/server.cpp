#include "net/server.h"

#include <libwebsockets.h>
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "common/log.h"
#include "common/rendezvous.h"
#include "common/service_notify.h"
#include "http/operator_pages.h"
#include "net/file_limit.h"
#include "net/listener.h"

namespace raptor::net {

namespace {

template <typename Apps>
bool has_webhooks(const Apps& apps) {
  for (const App& app : apps)
    if (!app.retired && !app.webhooks.empty()) return true;
  return false;
}

bool has_https_webhooks(const AppList& apps) {
  for (const App& app : apps)
    for (const WebhookEndpoint& to : app.webhooks)
      if (!app.retired && to.tls) return true;
  return false;
}

// Once its WebSockets have closed, how long a draining node waits at most for its HTTP answers,
// Redis's answers to its presence and occupancy changes and its webhooks (whose departures wait
// 3 s, and a POST up to --webhook-timeout-ms).
constexpr int64_t kFinishMs = 10000;

// How long a reload waits for every worker to pause between two events; the ones paused already
// serve nobody meanwhile.
constexpr int kReloadPauseMs = 2000;

// systemd (Type=notify) learns when raptor serves, reloads and stops: `systemctl start` returns
// once the port answers, and units ordered after raptor.service wait until then.
void tell_service_manager(const char* state) {
  if (!service::notify(state)) log::warn("NOTIFY_SOCKET: cannot send %s: %s", state, strerror(errno));
}

}  // namespace

Server::Server(Config config, Reread reread)
    : config_(std::move(config)), apps_(config_.apps.begin(), config_.apps.end()), reread_(std::move(reread)),
      hub_(config_.workers), webhooks_(apps_, config_.webhooks), webhook_client_(webhooks_, config_.webhooks),
      heartbeats_(config_.workers) {
  if (has_webhooks(apps_)) hub_.set_webhooks(&webhooks_);
  if (!config_.policies.empty()) webhooks_.shape_events_of(shaped_apps(config_.policies.front().get()));
  ClusterStatus* cluster = nullptr;
  if (config_.cluster.redis) {
    cluster_status_.node_id = config_.cluster.node_id;
    cluster_status_.workers = config_.workers;
    cluster_status_.node_timeout_s = config_.cluster.node_timeout_s;
    hub_.set_cluster_status(cluster = &cluster_status_);
  }
  for (size_t i = 0; i < config_.workers; ++i) {
    std::shared_ptr<Policy> policy = i < config_.policies.size() ? config_.policies[i] : nullptr;
    workers_.push_back(std::make_unique<Worker>(config_, apps_, hub_, i, std::move(policy), cluster));
  }
  config_.policies.clear();  // each worker owns its own
  http::configure_operator_pages(apps_, config_.admin_token);
}

std::vector<const App*> Server::shaped_apps(Policy* policy) const {
  std::vector<const App*> out;
  for (const App& app : apps_)
    if (policy && !app.retired && policy->has(app, Policy::Hook::ShapeWebhook)) out.push_back(&app);
  return out;
}

Server::~Server() = default;

int Server::run() {
  lws_set_log_level(LLL_ERR | LLL_WARN, nullptr);
  // Only this thread takes SIGINT/SIGTERM/SIGHUP (in sigwait); the workers inherit the blocked
  // mask (and the Ruby VMs' watchdog threads block every signal).
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  raise_file_limit();
  std::string error;
  if (!claim_port(config_.host, config_.port, error)) {
    log::error("%s", error.c_str());
    return 1;
  }
  for (auto& w : workers_)
    if (!w->listen()) return 1;
  // With a configuration file the webhook client runs even without receivers, for a reload that
  // adds some.
  if (has_webhooks(apps_) || !config_.config_file.empty()) {
    Worker& sender = *workers_.front();
    cluster::WebhookStream* stream = sender.start_webhook_stream(webhooks_, [this] { webhook_client_.pump_soon(); });
    if (!webhook_client_.start(sender, has_https_webhooks(apps_), stream)) return 1;
    webhook_client_started_ = true;
  }

  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  watchdog_usec_ = service::watchdog_usec(getenv("WATCHDOG_USEC"), getenv("WATCHDOG_PID"), getpid());
  for (auto& w : workers_) w->beat_into(watchdog_usec_ ? &heartbeats_ : nullptr);
  for (auto& w : workers_) threads.emplace_back([&w, &stop] { w->serve(stop); });
  log::info("listening on %s:%d (%s) with %zu worker%s on %s", config_.host.c_str(), config_.port,
            config_.tls_cert.empty() ? "ws, http" : "wss, https", workers_.size(), workers_.size() == 1 ? "" : "s",
            config_.event_loop == Config::EventLoop::Epoll ? "epoll" : "poll");
  if (const auto& redis = config_.cluster.redis)
    log::info("cluster: node %s, Redis %s:%d, prefix %s, node timeout %d s", config_.cluster.node_id.c_str(),
              redis->host.c_str(), redis->port, config_.cluster.prefix.c_str(), config_.cluster.node_timeout_s);

  tell_service_manager("READY=1");

  if (watchdog_usec_)
    log::info("systemd watchdog: WATCHDOG=1 every %.1f s while every worker ticks", double(watchdog_usec_) / 2e6);
  int sig = 0;
  while ((sig = next_signal(signals)) == SIGHUP) {
    tell_service_manager("RELOADING=1");
    reload();
    tell_service_manager("READY=1");  // serving, with the new configuration or the old one
  }
  tell_service_manager("STOPPING=1");
  if (sig == SIGTERM) drain(signals);
  log::info("shutting down (%s)", sig == SIGINT ? "SIGINT" : "SIGTERM");
  stop = true;
  for (auto& w : workers_) w->interrupt();
  for (auto& t : threads) t.join();
  webhook_client_.stop();
  // Now single-threaded: close every connection.
  for (auto& w : workers_) w.reset();
  webhooks_.abandon();  // logs what could not be delivered
  return 0;
}

// Graceful shutdown. The workers stop accepting and close their own clients in paced batches
// (Worker::begin_drain); this thread only watches their progress, a tenth of a second at a time,
// in sigtimedwait so that a second SIGTERM or a SIGINT cuts it short. The node is done when every
// WebSocket has closed, every HTTP request read has been answered, Redis has answered every
// presence and occupancy change (this node's members and subscriptions no longer count there) and
// the webhooks are out to every receiver that answers (departures wait out their delay first); it gives up waiting
// kFinishMs after the last WebSocket closed.
void Server::release_lease() {
  if (!config_.cluster.redis || workers_.empty()) return;
  auto released = std::make_shared<std::atomic<bool>>(false);
  Worker& worker = *workers_.front();
  if (!worker.run_on_thread([&worker, released] { worker.release_lease([released] { released->store(true); }); }))
    return;
  for (int i = 0; i < 20 && !released->load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
}

int Server::next_signal(const sigset_t& signals) {
  int sig = 0;
  if (watchdog_usec_ == 0) return sigwait(&signals, &sig) == 0 ? sig : -1;
  for (;;) {
    int64_t wait_ms = feed_watchdog();
    timespec wait{time_t(wait_ms / 1000), long(wait_ms % 1000) * 1000000};
    sig = sigtimedwait(&signals, nullptr, &wait);
    if (sig > 0) return sig;
    if (errno != EAGAIN && errno != EINTR) return -1;
  }
}

int64_t Server::feed_watchdog() {
  int64_t half_ms = std::max<int64_t>(int64_t(watchdog_usec_ / 2000), 10), now = service::monotonic_ms();
  if (watchdog_usec_ == 0) return 0;
  if (watchdog_fed_ms_ && now - watchdog_fed_ms_ < half_ms) return half_ms - (now - watchdog_fed_ms_);
  // A worker that has not ticked lately: no ping, and a look again soon, should it tick again.
  if (!heartbeats_.all_fresh(now, service::heartbeat_max_age_ms(watchdog_usec_))) return std::min<int64_t>(half_ms, 250);
  tell_service_manager("WATCHDOG=1");
  watchdog_fed_ms_ = now;
  return half_ms;
}

void Server::drain(const sigset_t& signals) {
  using Clock = std::chrono::steady_clock;
  auto started = Clock::now();
  auto seconds = [&started] { return std::chrono::duration<double>(Clock::now() - started).count(); };
  int64_t period_ms = int64_t(config_.drain_seconds) * 1000;
  log::info("drain (SIGTERM): not accepting connections; closing the WebSocket clients with 4200 over %d s, then "
            "exiting (SIGTERM or SIGINT again exits at once)",
            config_.drain_seconds);
  for (auto& w : workers_) {
    Worker* worker = w.get();
    worker->run_on_thread([worker, period_ms] { worker->begin_drain(period_ms); });
  }
  // Until every WebSocket has closed, the period and the closing handshakes' own time-out (5 s)
  // bound the wait; then the rest has kFinishMs.
  auto deadline = started + std::chrono::milliseconds(period_ms + kFinishMs);
  bool closed_logged = false;
  size_t started_workers, closed, connections, http, cluster_changes;
  auto sum_progress = [&] {
    started_workers = closed = connections = http = cluster_changes = 0;
    for (auto& w : workers_) {
      const DrainProgress& p = w->drain_progress();
      started_workers += p.started;
      closed += p.closed;
      connections += p.connections;
      http += p.http;
      cluster_changes += p.cluster_changes;
    }
  };
  for (;;) {
    sum_progress();
    uint64_t webhooks = webhook_client_started_ ? webhooks_.flushable() : 0;
    bool all_started = started_workers == workers_.size();
    if (all_started && connections == 0 && !closed_logged) {
      log::info("drain: %zu WebSocket connections closed with 4200 in %.1f s; %zu HTTP requests, %zu cluster changes "
                "and %llu webhook events to finish",
                closed, seconds(), http, cluster_changes, static_cast<unsigned long long>(webhooks));
      closed_logged = true;
      deadline = Clock::now() + std::chrono::milliseconds(kFinishMs);
    }
    if (all_started && connections == 0 && http == 0 && cluster_changes == 0 && webhooks == 0) {
      release_lease();
      log::info("drain: done in %.1f s", seconds());
      return;
    }
    if (Clock::now() > deadline) {
      log::warn("drain: stopped waiting after %.1f s: %zu connections still closing, %zu HTTP requests unanswered, "
                "%zu cluster changes unanswered by Redis (their members and subscriptions stay counted there "
                "until the node's lease lapses), %llu webhook events undelivered",
                seconds(), connections, http, cluster_changes, static_cast<unsigned long long>(webhooks));
      return;
    }
    feed_watchdog();  // systemd keeps watching while the service stops
    timespec step{0, 100 * 1000 * 1000};
    int sig = sigtimedwait(&signals, nullptr, &step);
    if (sig == SIGTERM || sig == SIGINT) {
      sum_progress();
      log::warn("drain: %s during the drain: exiting at once (%zu connections not closed with 4200)",
                sig == SIGINT ? "SIGINT" : "SIGTERM", connections);
      return;
    }
    if (sig == SIGHUP) log::warn("reload (SIGHUP) ignored: the server is draining");
  }
}

// The new configuration is read and its VMs built here, on the main thread, while the workers go
// on serving. Then every worker is paused at a known point (a task in its mailbox, so between two
// events) while the apps and limits they share are changed in place; released, each swaps in its
// own new policy on its own thread and closes the connections of removed apps. Connections,
// subscriptions and queued frames are not touched: nothing is dropped or lost. If a worker does
// not pause within kReloadPauseMs, the reload is refused and the paused ones resume: a hook stuck
// on one worker must not freeze the whole node.
void Server::reload() {
  auto started = std::chrono::steady_clock::now();
  if (!reread_) {
    log::warn("reload (SIGHUP): not available here; ignored");
    return;
  }
  log::info("reload (SIGHUP): reading the configuration%s%s", config_.config_file.empty() ? "" : " from ",
            config_.config_file.c_str());
  Config next;
  std::vector<std::string> kept;
  std::string error;
  if (!reread_(config_, next, kept, error)) {
    while (!error.empty() && error.back() == '\n') error.pop_back();
    log::error("reload refused, the running configuration stays as it was: %s", error.c_str());
    return;
  }
  for (const auto& k : kept) log::warn("reload: %s", k.c_str());
  bool webhooks_wanted = has_webhooks(next.apps);
  if (webhooks_wanted && !webhook_client_started_) {
    log::warn("reload: webhook receivers need a restart when raptor started without a configuration file or "
              "receivers: their events are not sent until then");
  }

  std::vector<std::shared_ptr<Policy>> policies = std::move(next.policies);
  next.policies.clear();
  std::vector<std::string> settings = live_changes(config_, next);
  auto pause = std::make_shared<Rendezvous>(workers_.size());
  auto closed = std::make_shared<std::atomic<size_t>>(0);
  auto go = std::make_shared<std::atomic<bool>>(true);
  for (size_t i = 0; i < workers_.size(); ++i) {
    std::shared_ptr<Policy> policy = i < policies.size() ? policies[i] : nullptr;
    Worker* w = workers_[i].get();
    bool posted = w->run_on_thread([pause, closed, go, w, policy = std::move(policy), limits = next.limits]() mutable {
      pause->arrive_and_wait();
      if (*go) *closed += w->apply_reload(std::move(policy), limits);
      pause->finish();
    });
    if (!posted) {  // a worker takes no mail only while stopping, which comes after this returns
      log::error("reload: worker %zu takes no mail; reload abandoned", i);
      *go = false;
      pause->release();  // the workers already paused go on as they were
      return;
    }
  }
  Policy* first = policies.empty() ? nullptr : policies.front().get();
  if (!pause->wait_arrived(std::chrono::milliseconds(kReloadPauseMs))) {
    // A worker still busy (a hook stopped only at its time budget, or one stuck in C until the
    // watchdog's backstop) reads the apps and limits: changing them now would race with it.
    *go = false;
    pause->release();  // the paused ones go on as they were; the late one skips its part
    log::error("reload refused, the running configuration stays as it was: %zu of %zu workers did not pause within "
               "%d ms (busy in a hook?); send SIGHUP again",
               workers_.size() - pause->arrived(), workers_.size(), kReloadPauseMs);
    return;
  }
  // Every worker is paused: nothing reads the apps, the limits or the webhook outboxes now.
  AppChanges apps = update_apps(apps_, next.apps);
  config_ = std::move(next);
  webhooks_.reconfigure(apps_);
  http::configure_operator_pages(apps_, config_.admin_token);
  webhooks_.shape_events_of(shaped_apps(first));  // asked on this thread before worker 0 uses it
  hub_.set_webhooks(has_webhooks(apps_) && webhook_client_started_ ? &webhooks_ : nullptr);
  policies.clear();  // each is now held by its worker's task alone
  pause->release();
  pause->wait_finished();

  std::string summary = describe(apps);
  if (!apps.removed.empty()) summary += " (" + std::to_string(closed->load()) + " connections closed with 4001)";
  for (const auto& s : settings) summary += "; " + s;
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  log::info("reload: done in %lld ms: %s; hooks %s", static_cast<long long>(ms), summary.c_str(),
            first ? "reloaded" : "none");
}

}  // namespace raptor::net
