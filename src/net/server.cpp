#include "net/server.h"

#include <libwebsockets.h>
#include <pthread.h>

#include <csignal>
#include <thread>

#include "common/log.h"
#include "net/file_limit.h"
#include "net/listener.h"

namespace raptor::net {

namespace {

bool has_webhooks(const Config& c) {
  for (const App& app : c.apps)
    if (!app.webhooks.empty()) return true;
  return false;
}

}  // namespace

Server::Server(const Config& config)
    : config_(config), hub_(config_.workers), webhooks_(config_.apps, config_.webhooks),
      webhook_client_(webhooks_, config_.webhooks) {
  if (has_webhooks(config_)) hub_.set_webhooks(&webhooks_);
  ClusterStatus* cluster = nullptr;
  if (config_.cluster.redis) {
    cluster_status_.node_id = config_.cluster.node_id;
    cluster_status_.workers = config_.workers;
    hub_.set_cluster_status(cluster = &cluster_status_);
  }
  for (size_t i = 0; i < config_.workers; ++i)
    workers_.push_back(std::make_unique<Worker>(config_, hub_, i, cluster));
}

Server::~Server() = default;

int Server::run() {
  lws_set_log_level(LLL_ERR | LLL_WARN, nullptr);
  // Only this thread takes SIGINT/SIGTERM (in sigwait); the workers inherit the blocked mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
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
  if (has_webhooks(config_) && !webhook_client_.start(*workers_.front())) return 1;

  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (auto& w : workers_) threads.emplace_back([&w, &stop] { w->serve(stop); });
  log::info("listening on %s:%d (%s) with %zu worker%s on %s", config_.host.c_str(), config_.port,
            config_.tls_cert.empty() ? "ws, http" : "wss, https", workers_.size(), workers_.size() == 1 ? "" : "s",
            config_.event_loop == Config::EventLoop::Epoll ? "epoll" : "poll");
  if (const auto& redis = config_.cluster.redis)
    log::info("cluster: node %s, Redis %s:%d, prefix %s", config_.cluster.node_id.c_str(), redis->host.c_str(),
              redis->port, config_.cluster.prefix.c_str());

  int sig = 0;
  sigwait(&signals, &sig);
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

}  // namespace raptor::net
