#include "process/reloader.h"

#include <atomic>
#include <chrono>

#include "common/log.h"
#include "common/rendezvous.h"
#include "config/tls_files.h"
#include "http/operator_pages.h"
#include "net/server_tls.h"

namespace raptor::process {
namespace {

// How long a reload waits for every worker to pause between two events; the ones paused already
// serve nobody meanwhile.
constexpr int kPauseMs = 2000;

// A worker's part, on its thread: the new policy (the old one is destroyed here, by the thread
// that ran it) and limits; closes the connections of retired apps. Returns how many.
size_t apply(net::Worker& worker, std::shared_ptr<Policy> policy, const EngineLimits& limits, const TlsIdentity* tls) {
  std::shared_ptr<Policy> old = worker.swap_policy(std::move(policy));
  worker.engine().set_limits(limits);
  if (tls)
    if (auto why = worker.reload_tls(*tls))  // checked before: OpenSSL itself refused
      log::error("reload: worker %zu goes on serving its previous TLS certificate: %s", worker.index(), why->c_str());
  size_t closed = worker.engine().close_retired();
  old.reset();
  return closed;
}

}  // namespace

// The new configuration is read and its VMs built here, on the main thread, while the workers go
// on serving. Then every worker is paused at a known point (a task in its mailbox, so between two
// events) while the apps and limits they share are changed in place; released, each swaps in its
// own new policy on its own thread and closes the connections of removed apps. Connections,
// subscriptions and queued frames are not touched: nothing is dropped or lost. If a worker does
// not pause within kPauseMs, the reload is refused and the paused ones resume: a hook stuck on
// one worker must not freeze the whole node.
void Reloader::reload() {
  auto started = std::chrono::steady_clock::now();
  if (!reread_) {
    log::warn("reload (SIGHUP): not available here; ignored");
    return;
  }
  log::info("reload (SIGHUP): reading the configuration%s%s", running_.config_file.empty() ? "" : " from ",
            running_.config_file.c_str());
  Config next;
  std::vector<std::string> kept;
  std::string error;
  if (!reread_(running_, next, kept, error)) {
    while (!error.empty() && error.back() == '\n') error.pop_back();
    log::error("reload refused, the running configuration stays as it was: %s", error.c_str());
    return;
  }
  // With TLS, the certificate and key are read again (renewed in place, or at new paths) and
  // checked before anything changes: a bad pair refuses the reload, and the old one serves on.
  std::shared_ptr<TlsIdentity> tls;
  if (!next.tls_cert.empty()) {
    tls = std::make_shared<TlsIdentity>();
    std::optional<std::string> why = load_tls_identity(next.tls_cert, next.tls_key, *tls);
    if (!why && workers_.front()->server_tls()) why = net::tls_identity_change_problem(workers_.front()->server_tls(), *tls);
    if (why) {
      log::error("reload refused, the running configuration stays as it was: %s", why->c_str());
      return;
    }
  }
  for (const auto& k : kept) log::warn("reload: %s", k.c_str());
  if (has_webhooks(next.apps) && !webhooks_.started()) {
    log::warn("reload: webhook receivers need a restart when raptor started without a configuration file or "
              "receivers: their events are not sent until then");
  }

  std::vector<std::shared_ptr<Policy>> policies = std::move(next.policies);
  next.policies.clear();
  std::vector<std::string> settings = live_changes(running_, next);
  auto pause = std::make_shared<Rendezvous>(workers_.size());
  auto closed = std::make_shared<std::atomic<size_t>>(0);
  auto go = std::make_shared<std::atomic<bool>>(true);
  for (size_t i = 0; i < workers_.size(); ++i) {
    std::shared_ptr<Policy> policy = i < policies.size() ? policies[i] : nullptr;
    net::Worker* w = workers_[i].get();
    bool posted = w->run_on_thread([pause, closed, go, w, tls, policy = std::move(policy), limits = next.limits]() mutable {
      pause->arrive_and_wait();
      if (*go) *closed += apply(*w, std::move(policy), limits, tls.get());
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
  if (!pause->wait_arrived(std::chrono::milliseconds(kPauseMs))) {
    // A worker still busy (a hook stopped only at its time budget, or one stuck in C until the
    // watchdog's backstop) reads the apps and limits: changing them now would race with it.
    *go = false;
    pause->release();  // the paused ones go on as they were; the late one skips its part
    log::error("reload refused, the running configuration stays as it was: %zu of %zu workers did not pause within "
               "%d ms (busy in a hook?); send SIGHUP again",
               workers_.size() - pause->arrived(), workers_.size(), kPauseMs);
    return;
  }
  // Every worker is paused: nothing reads the apps, the limits or the webhook outboxes now.
  AppChanges apps = update_apps(apps_, next.apps);
  running_ = std::move(next);
  webhooks_.reconfigure(first);
  http::configure_operator_pages(apps_, running_.admin_token);
  policies.clear();  // each is now held by its worker's task alone
  pause->release();
  pause->wait_finished();

  std::string summary = describe(apps);
  if (!apps.removed.empty()) summary += " (" + std::to_string(closed->load()) + " connections closed with 4001)";
  for (const auto& s : settings) summary += "; " + s;
  if (tls) summary += "; tls certificate " + tls->describe();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  log::info("reload: done in %lld ms: %s; hooks %s", static_cast<long long>(ms), summary.c_str(),
            first ? "reloaded" : "none");
}

}  // namespace raptor::process
