// The network side. A Server runs one Worker per thread; each worker has its own
// libwebsockets context listening on the shared port (SO_REUSEPORT, so the kernel spreads
// connections over them), its own Engine and its own connections, and a mailbox through which
// the other workers hand it events for its subscribers. This directory is the only place that
// includes libwebsockets.
#pragma once
#include <signal.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "cluster/redis_bus.h"
#include "common/watchdog.h"
#include "config/config.h"
#include "config/reload.h"
#include "core/engine.h"
#include "core/drain_pacing.h"
#include "core/hub.h"
#include "http/request.h"
#include "net/webhook_client.h"
#include "webhooks/webhook_queue.h"

struct lws;
struct lws_context;
struct lws_vhost;
struct ssl_ctx_st;
struct ev_loop;

namespace raptor::net {

// Per-WebSocket state that libwebsockets allocates for us (zeroed).
struct Session {
  Connection* conn;           // WebSocket: the engine's connection
  std::string* rx;            // WebSocket: a message arriving in pieces (allocated when one does)
  uint32_t flush_slot;        // WebSocket: 1 + its index in the worker's flush list, 0 when not on it
  bool compressed;            // WebSocket: permessage-deflate was agreed; lws frames every write
};

class LwsEventPort;
class IntervalTimer;
class HttpConnection;
class Arrival;

// How a worker's part of a graceful drain goes: written by the worker at each drain step, read by
// the main thread, which decides when the node may exit (Server::drain).
struct DrainProgress {
  std::atomic<bool> started{false};
  std::atomic<size_t> closed{0};       // connections closed with 4200
  std::atomic<size_t> connections{0};  // WebSocket connections still open or closing
  std::atomic<size_t> http{0};         // HTTP requests read and not yet answered
  std::atomic<size_t> cluster_changes{0};  // presence and occupancy changes Redis has not answered yet
};

class Worker : public Transport, public Mailbox {
 public:
  // `policy`: the hooks of raptor.rb in this worker's own VM, or null. `cluster`: the cluster's
  // shared state when this node is one of a cluster, else null.
  Worker(const Config& config, const AppList& apps, Hub& hub, size_t index, std::shared_ptr<Policy> policy,
         ClusterStatus* cluster);
  ~Worker() override;

  // Opens the listening socket; false (with a logged reason) when it cannot.
  bool listen();
  // Serves until `stop` is set and stop() called; on the worker's own thread.
  void serve(const std::atomic<bool>& stop);
  // Wakes the loop so that it notices `stop`; from any thread.
  void interrupt();

  void wake(Connection& c) override;
  void post(Delivery d) override;
  // Runs `task` on the worker's thread, after the deliveries posted before it; from any thread.
  // False when the worker no longer takes mail (it is stopping).
  bool run_on_thread(std::function<void()> task);
  // Hands the mailbox's deliveries to the engine and runs the tasks; on the worker's thread.
  void drain_mailbox();
  // A reload's part on the worker's thread: the new policy (the old one is destroyed here, by the
  // thread that used it) and limits; closes the connections of retired apps. Returns how many.
  size_t apply_reload(std::shared_ptr<Policy> policy, EngineLimits limits);
  // An HTTP answer being computed for `c` (http_connection.h): await_answer() numbers it,
  // answered() hands it to the connection if it is still open, forget_answer() says it closed.
  // An answer may come after its connection has gone (a cluster read that waited for Redis), so
  // the number is all it keeps, never the connection.
  uint64_t await_answer(HttpConnection* c);
  void answered(uint64_t id, http::Response response);
  void forget_answer(uint64_t id);
  // A connection the listener accepted (listener.h): plain ones wait as an Arrival for their
  // first request, TLS ones are HTTP connections from the start.
  void accept(int fd);
  // Where an Arrival hands its connection: to libwebsockets' WebSocket side, or to HTTP.
  void adopt_websocket(int fd);
  void adopt_http(int fd);
  // Arrivals still waiting, closed if the worker stops first.
  void arrived(Arrival* a) { arrivals_.push_back(a); }
  void departed(Arrival* a);
  // The plain vhost a bridged WebSocket is served on (http_connection.h), and the address of the
  // client behind each bridge, taken once by its handshake.
  lws_vhost* bridge_vhost() const { return bridge_vhost_; }
  void note_bridged_peer(int fd, std::string address) { bridged_peers_[fd] = std::move(address); }
  std::optional<std::string> take_bridged_peer(int fd);
  struct ev_loop* loop() const { return loop_; }
  // Writes every connection woken since the last flush.
  void flush();
  // A connection on the flush list is closing; on the worker's thread.
  void forget(Session& s);
  // Once a second: subscription counts and the cluster's connections; a heartbeat for the
  // watchdog (common/watchdog.h) when there is one.
  void tick();
  void beat_into(service::Heartbeats* heartbeats) { heartbeats_ = heartbeats; }
  // Ten times a second, a tenth of the connections each time: pings and time-outs.
  void check_liveness(size_t part, size_t parts) { engine_.check_liveness(part, parts); }
  // Establishes the connections held while the node was not ready (docs/cluster.md#readiness).
  void check_readiness() { engine_.check_readiness(); }
  // Worker 0 of a cluster node, every 300 ms: the departure webhooks due in Redis.
  void sweep_departures();
  // In a cluster, on the worker that sends webhooks: the Redis stream their events pass through
  // (cluster/webhook_stream.h); null without a cluster. After listen(), before serve().
  cluster::WebhookStream* start_webhook_stream(WebhookQueue& queue, std::function<void()> poke);
  // SIGTERM (Server::drain): stops accepting connections and closes this worker's WebSocket
  // clients with 4200, spread over `period_ms`; on the worker's thread. Progress shows in
  // drain_progress().
  void begin_drain(int64_t period_ms);
  const DrainProgress& drain_progress() const { return drain_; }
  // See Server::release_lease; on the worker's thread. `done` is called once settled, unless the
  // worker stops first.
  void release_lease(std::function<void()> done);
  // An HTTP request was read in full and is being answered / its answer has left or it was dropped.
  void http_exchange_began() { ++http_exchanges_; }
  void http_exchange_ended() { --http_exchanges_; }

  Engine& engine() { return engine_; }
  const Config& config() const { return config_; }
  lws_context* context() const { return context_; }

 private:
  // One step of the drain: closes the connections due now, reports progress.
  void drain_step();

  const Config& config_;
  size_t index_;
  ClusterStatus* cluster_status_;
  std::shared_ptr<Policy> policy_;  // owned here; the engine has a plain pointer
  Engine engine_;
  lws_context* context_ = nullptr;
  lws* listener_ = nullptr;  // the listening socket's wsi, until a drain closes it
  // Raw descriptors on this worker's loop: the Redis sockets, the drain's timer.
  std::unique_ptr<LwsEventPort> event_port_;
  // With a cluster: the link to the other nodes.
  std::unique_ptr<cluster::RedisBus> cluster_;
  std::unique_ptr<cluster::WebhookStream> webhook_stream_;
  struct ev_loop* loop_ = nullptr;  // libev, on epoll or poll (--event-loop)
  lws_vhost* bridge_vhost_ = nullptr;
  std::vector<Arrival*> arrivals_;
  std::unordered_map<int, std::string> bridged_peers_;
  ssl_ctx_st* idle_client_tls_ = nullptr;  // with TLS: the server vhost's unused client context
  const std::atomic<bool>* stop_ = nullptr;
  struct LoopHooks* hooks_ = nullptr;  // the libev watcher that calls flush() before the loop waits
  // WebSockets with frames to write, written together at the end of the loop pass (so that the
  // frames of several events queued in one pass leave in one send). Null where one closed.
  std::vector<lws*> to_flush_;
  size_t http_exchanges_ = 0;  // HTTP requests being answered
  service::Heartbeats* heartbeats_ = nullptr;
  std::optional<DrainPacing> drain_pacing_;  // while draining
  std::unique_ptr<IntervalTimer> drain_timer_;
  DrainProgress drain_;
  std::unordered_map<uint64_t, HttpConnection*> awaiting_answers_;  // by number, while being computed
  uint64_t answers_begun_ = 0;
  std::mutex mailbox_mutex_;  // guards the two below, and context_ against a wake-up during teardown
  std::vector<Delivery> mailbox_;
  std::vector<std::function<void()>> tasks_;
  bool accepting_mail_ = false;
};

class Server {
 public:
  // `reread` reads the configuration again for a reload (SIGHUP); without it SIGHUP is ignored.
  explicit Server(Config config, Reread reread = {});
  ~Server();
  // Serves until SIGINT (stops at once) or SIGTERM (drains first), reloading on SIGHUP; returns
  // the process exit status.
  int run();

 private:
  // SIGHUP: the new configuration, or a logged refusal that leaves the running one as it is.
  void reload();
  // SIGTERM: stops accepting, closes the WebSocket clients with 4200 over the drain period and
  // waits (bounded) until what they leave behind is settled; returns early on a second SIGTERM
  // or a SIGINT. docs/cluster.md#graceful-shutdown.
  void drain(const sigset_t& signals);
  // The next of `signals`, or -1 when waiting fails; with systemd's watchdog on (WatchdogSec),
  // wakes every half interval meanwhile to feed it.
  int next_signal(const sigset_t& signals);
  // WATCHDOG=1 when half an interval has passed since the last and every worker's loop still
  // ticks (common/watchdog.h); returns the ms until it is worth calling again (0: no watchdog).
  int64_t feed_watchdog();
  // The end of a drain in a cluster: worker 0 gives the node's lease back once Redis holds
  // nothing of the node, so that no other node takes it for dead and cleans up after it. Waits
  // a second at most for Redis.
  void release_lease();
  // The apps whose webhook events go through the shape_webhook hook of `policy`.
  std::vector<const App*> shaped_apps(Policy* policy) const;

  Config config_;  // as running; its apps were copied into apps_, its policies handed to the workers
  AppList apps_;   // what every worker serves (see AppList)
  Reread reread_;
  ClusterStatus cluster_status_;
  Hub hub_;
  WebhookQueue webhooks_;          // outlives the workers, whose closing connections still emit
  WebhookClient webhook_client_;   // on worker 0
  bool webhook_client_started_ = false;
  std::vector<std::unique_ptr<Worker>> workers_;
  service::Heartbeats heartbeats_;  // the workers' ticks, for systemd's watchdog
  uint64_t watchdog_usec_ = 0;      // WATCHDOG_USEC; 0: no watchdog
  int64_t watchdog_fed_ms_ = 0;     // when WATCHDOG=1 last went (monotonic_ms)
};

// The WebSocket callbacks (websocket_session.cpp).
int on_websocket(Worker& worker, lws* wsi, int reason, Session* session, void* in, size_t len);
// Writes a woken connection's queue, or leaves it to lws's writable callback when it cannot.
void flush_websocket(lws* wsi, Session& s);

}  // namespace raptor::net
