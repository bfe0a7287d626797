// One worker thread's side of the network. Each worker has its own libwebsockets context listening
// on the shared port (SO_REUSEPORT, so the kernel spreads connections over them), its own Engine
// and its own connections, and a mailbox through which the other workers hand it events for its
// subscribers. net/ is the only place that includes libwebsockets; it translates between sockets
// and the engine. Starting, stopping, draining and reloading the workers is the process's job
// (process/server.h), which drives a worker through run_on_thread() and the primitives below.
#pragma once
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/engine.h"
#include "core/hub.h"
#include "net/peer_addresses.h"
#include "net/pending_answers.h"

struct lws;
struct lws_context;
struct lws_vhost;
struct ssl_ctx_st;
struct ev_loop;

namespace raptor {
struct Config;
struct TlsIdentity;
namespace cluster {
class EventPort;
}  // namespace cluster
namespace http {
struct Response;
}  // namespace http
}  // namespace raptor

namespace raptor::net {

class LwsEventPort;
class HttpConnection;
class Arrival;
struct Session;

class Worker : public Transport, public Mailbox {
 public:
  // `policy`: the hooks of raptor.rb in this worker's own VM, or null. In a cluster, the process
  // links the engine to the other nodes (process/cluster_link.h).
  Worker(const Config& config, const AppList& apps, Hub& hub, size_t index, std::shared_ptr<Policy> policy);
  ~Worker() override;

  // Opens the listening socket; false (with a logged reason) when it cannot.
  bool listen();
  // Serves until `stop` is set and interrupt() called; on the worker's own thread.
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

  // An HTTP answer being computed for `c` (http_connection.h, pending_answers.h).
  uint64_t await_answer(HttpConnection* c) { return answers_.await(c); }
  void answered(uint64_t id, http::Response response);
  void forget_answer(uint64_t id) { answers_.forget(id); }
  // An HTTP request was read in full and is being answered / its answer has left or it was dropped.
  void http_exchange_began() { ++http_exchanges_; }
  void http_exchange_ended() { --http_exchanges_; }
  size_t http_exchanges() const { return http_exchanges_; }

  // A connection the listener accepted (listener.h): plain ones wait as an Arrival for their
  // first request, TLS ones are HTTP connections from the start.
  void accept(int fd);
  // Where an Arrival hands its connection: to libwebsockets' WebSocket side, or to HTTP.
  void adopt_websocket(int fd);
  void adopt_http(int fd);
  // Arrivals still waiting, closed if the worker stops first.
  void arrived(Arrival* a) { arrivals_.push_back(a); }
  void departed(Arrival* a);
  // Closes the listening socket: new connections are refused at once, and those the kernel had
  // queued and nobody accepted yet are reset. On the worker's thread.
  void stop_listening();
  // TLS from the start (after a PROXY header): lws reads the handshake, then HTTP.
  void adopt_tls(int fd);
  // The plain vhost a bridged WebSocket is served on (http_connection.h), and the address of the
  // client behind each bridge or PROXY header (peer_addresses.h).
  lws_vhost* bridge_vhost() const { return bridge_vhost_; }
  PeerAddresses& peer_addresses() { return peer_addresses_; }
  struct ev_loop* loop() const { return loop_; }

  // Writes every connection woken since the last flush.
  void flush();
  // A connection on the flush list is closing; on the worker's thread.
  void forget(Session& s);

  // Once a second: subscription counts, then each of `each_second`'s tasks (the cluster's
  // connections, the process's heartbeat, a drain's progress).
  void tick();
  // Adds a task to tick(); before serve() or on the worker's thread.
  void each_second(std::function<void()> task) { each_second_.push_back(std::move(task)); }
  // Ten times a second, a tenth of the connections each time: pings and time-outs.
  void check_liveness(size_t part, size_t parts) { engine_.check_liveness(part, parts); }
  // Establishes the connections held while the node was not ready (docs/cluster.md#readiness).
  void check_readiness() { engine_.check_readiness(); }
  void check_send_queues() { engine_.check_send_queues(); }

  // With TLS: libwebsockets made the listener's context `ctx`; set to the configured version
  // floor and ciphers (false, logged, when it cannot be). During listen().
  bool server_tls_made(ssl_ctx_st* ctx);
  // A reload: the listener's TLS context takes config()'s version floor and ciphers and
  // `identity` for the handshakes from now on; why not, when it cannot. On the worker's thread.
  std::optional<std::string> reload_tls(const TlsIdentity& identity);
  // The listener's TLS context (null without TLS), for checks that read it.
  const ssl_ctx_st* server_tls() const { return server_tls_; }

  // Puts `policy` in the engine's hands and returns the one it had, to be destroyed on this
  // worker's thread (the thread that ran it). On the worker's thread.
  std::shared_ptr<Policy> swap_policy(std::shared_ptr<Policy> policy);

  Engine& engine() { return engine_; }
  const Config& config() const { return config_; }
  size_t index() const { return index_; }
  lws_context* context() const { return context_; }
  // Raw descriptors on this worker's loop (timers, the Redis sockets); after listen().
  cluster::EventPort& event_port();

 private:
  const Config& config_;
  size_t index_;
  std::shared_ptr<Policy> policy_;  // owned here; the engine has a plain pointer
  Engine engine_;
  lws_context* context_ = nullptr;
  lws* listener_ = nullptr;  // the listening socket's wsi, until stop_listening()
  std::unique_ptr<LwsEventPort> event_port_;
  struct ev_loop* loop_ = nullptr;  // libev, on epoll or poll (--event-loop)
  lws_vhost* bridge_vhost_ = nullptr;
  std::vector<Arrival*> arrivals_;
  PeerAddresses peer_addresses_;
  ssl_ctx_st* server_tls_ = nullptr;       // with TLS: the listener's context, owned by lws
  ssl_ctx_st* idle_client_tls_ = nullptr;  // with TLS: the server vhost's unused client context
  const std::atomic<bool>* stop_ = nullptr;
  struct LoopHooks* hooks_ = nullptr;  // the libev watcher that calls flush() before the loop waits
  // WebSockets with frames to write, written together at the end of the loop pass (so that the
  // frames of several events queued in one pass leave in one send). Null where one closed.
  std::vector<lws*> to_flush_;
  std::vector<std::function<void()>> each_second_;
  size_t http_exchanges_ = 0;  // HTTP requests being answered
  PendingAnswers answers_;
  std::mutex mailbox_mutex_;  // guards the three below, and context_ against a wake-up during teardown
  std::vector<Delivery> mailbox_;
  std::vector<std::function<void()>> tasks_;
  bool accepting_mail_ = false;
};

}  // namespace raptor::net
