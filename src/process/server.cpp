#include "process/server.h"

#include <libwebsockets.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <thread>

#include "common/log.h"
#include "common/service_notify.h"
#include "http/cluster_stats.h"
#include "http/dashboard.h"
#include "http/operator_pages.h"
#include "net/file_limit.h"
#include "net/listener.h"
#include "process/node_drain.h"
#include "process/reloader.h"
#include "process/signals.h"
#include "process/watchdog_feeder.h"

namespace raptor::process {
namespace {

// systemd (Type=notify) learns when raptor serves, reloads and stops: `systemctl start` returns
// once the port answers, and units ordered after raptor.service wait until then.
void tell_service_manager(const char* state) {
  if (!service::notify(state)) log::warn("NOTIFY_SOCKET: cannot send %s: %s", state, strerror(errno));
}

// The next signal; with systemd's watchdog on (WatchdogSec), wakes every half interval meanwhile
// to feed it.
int next_signal(const Signals& signals, WatchdogFeeder& watchdog) {
  if (!watchdog.enabled()) return signals.wait();
  for (;;) {
    int sig = signals.wait_for(watchdog.feed(service::monotonic_ms()));
    if (sig != 0) return sig;
  }
}

}  // namespace

Server::Server(Config config, Reread reread)
    : config_(std::move(config)), apps_(config_.apps.begin(), config_.apps.end()), reread_(std::move(reread)),
      hub_(config_.workers), webhooks_(apps_, config_, hub_), heartbeats_(config_.workers) {
  if (config_.cluster.redis) {
    cluster_status_.node_id = config_.cluster.node_id;
    cluster_status_.workers = config_.workers;
    cluster_status_.node_timeout_s = config_.cluster.node_timeout_s;
    cluster_status_.startup_wait_s = config_.cluster.startup_wait_s;
    hub_.set_cluster_status(&cluster_status_);
  }
  for (size_t i = 0; i < config_.workers; ++i) {
    std::shared_ptr<Policy> policy = i < config_.policies.size() ? config_.policies[i] : nullptr;
    workers_.push_back(std::make_unique<net::Worker>(config_, apps_, hub_, i, std::move(policy)));
    if (config_.cluster.redis)
      links_.push_back(std::make_unique<ClusterLink>(*workers_.back(), config_, cluster_status_));
    drains_.push_back(std::make_unique<WorkerDrain>(*workers_.back(), cluster_link(i)));
    net::Worker* w = workers_.back().get();
    w->each_second([w] { http::feed_dashboard(w->engine(), time(nullptr)); });  // docs/metrics.md#dashboard
    if (config_.cluster.redis && i == 0) w->each_second([w] { http::share_node_stats(w->engine(), time(nullptr)); });
  }
  config_.policies.clear();  // each worker owns its own
  http::configure_operator_pages(apps_, config_.admin_token);
}

Server::~Server() = default;

int Server::run() {
  lws_set_log_level(LLL_ERR | LLL_WARN, nullptr);
  // Before any worker thread starts, which inherits the blocked mask (SIGXCPU, which times the
  // Ruby hooks on their own thread, stays open).
  Signals signals;

  net::raise_file_limit();
  std::string error;
  if (!net::claim_port(config_.host, config_.port, error)) {
    log::error("%s", error.c_str());
    return 1;
  }
  for (auto& w : workers_)
    if (!w->listen()) return 1;
  for (auto& link : links_) link->start();
  if (!webhooks_.start(*workers_.front(), cluster_link(0), config_)) return 1;

  uint64_t watchdog_usec = service::watchdog_usec(getenv("WATCHDOG_USEC"), getenv("WATCHDOG_PID"), getpid());
  WatchdogFeeder watchdog(watchdog_usec, heartbeats_, [] { tell_service_manager("WATCHDOG=1"); });
  if (watchdog.enabled())
    for (auto& w : workers_) {
      size_t index = w->index();
      w->each_second([this, index] { heartbeats_.beat(index, service::monotonic_ms()); });
    }
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (auto& w : workers_) threads.emplace_back([&w, &stop] { w->serve(stop); });
  log::info("listening on %s:%d (%s) with %zu worker%s on %s", config_.host.c_str(), config_.port,
            config_.tls_cert.empty() ? "ws, http" : "wss, https", workers_.size(), workers_.size() == 1 ? "" : "s",
            config_.event_loop == Config::EventLoop::Epoll ? "epoll" : "poll");
  if (const auto& redis = config_.cluster.redis)
    log::info("cluster: node %s, Redis %s:%d, prefix %s, node timeout %d s", config_.cluster.node_id.c_str(),
              redis->host.c_str(), redis->port, config_.cluster.prefix.c_str(), config_.cluster.node_timeout_s);

  tell_service_manager("READY=1");

  if (watchdog.enabled())
    log::info("systemd watchdog: WATCHDOG=1 every %.1f s while every worker ticks", double(watchdog_usec) / 2e6);
  Reloader reloader(reread_, config_, apps_, workers_, webhooks_);
  int sig = 0;
  while ((sig = next_signal(signals, watchdog)) == SIGHUP) {
    tell_service_manager("RELOADING=1");
    reloader.reload();
    tell_service_manager("READY=1");  // serving, with the new configuration or the old one
  }
  tell_service_manager("STOPPING=1");
  if (sig == SIGTERM) {
    NodeDrain drain(workers_, drains_, [this] { return webhooks_.flushable(); }, cluster_link(0));
    drain.run(config_.drain_seconds, signals, watchdog);
  }
  log::info("shutting down (%s)", sig == SIGINT ? "SIGINT" : "SIGTERM");
  stop = true;
  for (auto& w : workers_) w->interrupt();
  for (auto& t : threads) t.join();
  webhooks_.stop();
  // Now single-threaded: the drains let go of their timers, then every connection closes.
  drains_.clear();
  links_.clear();
  for (auto& w : workers_) w.reset();
  webhooks_.abandon();  // logs what could not be delivered
  return 0;
}

}  // namespace raptor::process
