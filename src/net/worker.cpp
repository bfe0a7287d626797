#include <ev.h>
#include <libwebsockets.h>
#include <openssl/ssl.h>

#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "common/log.h"
#include "config/config.h"
#include "core/send_queue_totals.h"
#include "metrics/counters.h"
#include "net/arrival.h"
#include "net/event_port.h"
#include "net/http_connection.h"
#include "net/listener.h"
#include "net/server_tls.h"
#include "net/websocket_session.h"
#include "net/worker.h"
#include "protocol/signature.h"

namespace raptor::net {
namespace {

static_assert(LWS_PRE <= kFrameHeadroom, "frames need LWS_PRE bytes of headroom");

struct Ticker {
  lws_sorted_usec_list_t sul;  // first: the callback gets &sul
  Worker* worker;
  lws_context* context;
  size_t beats;
};

// The ticker beats ten times a second: each beat checks the liveness of a tenth of the
// connections, every tenth beat does the rest of the once-a-second work.
constexpr size_t kBeatsPerSecond = 10;

void on_tick(lws_sorted_usec_list_t* sul) {
  auto* t = reinterpret_cast<Ticker*>(sul);
  size_t beat = t->beats++ % kBeatsPerSecond;
  if (beat == 0) t->worker->tick();
  t->worker->check_liveness(beat, kBeatsPerSecond);
  t->worker->check_readiness();
  t->worker->check_send_queues();
  t->worker->flush();  // lws's poll loop goes on waiting after a timer without returning
  lws_sul_schedule(t->context, 0, &t->sul, on_tick, LWS_US_PER_SEC / kBeatsPerSecond);
}

// No lws "validity" timer per connection: the engine does its own liveness (activity timeout,
// ping, 4201), and lws keeps those timers in a sorted list whose insertion walks every other
// connection's timer, which made accepting connections O(n) each.
const lws_retry_bo_t kNoValidityTimer = {};

// lws keeps one receive buffer of this size per WebSocket: most of a connection's memory, so it
// holds a typical client message (subscribe with an auth signature: ~150-300 bytes) and longer
// ones are gathered in a buffer allocated only while they arrive (websocket_session.cpp).
constexpr size_t kReceiveBufferBytes = 384;
// The most lws hands the kernel in one send (TLS, compressed and HTTP writes go through lws); left
// at 0, lws would cut every write to the receive buffer's size and send the rest pass by pass.
constexpr size_t kLargestSend = 64 * 1024;

// permessage-deflate as Pusher's clients know it; the client keeps no context between messages,
// so it needs no window per connection of its own.
const lws_extension kCompression[] = {
    {"permessage-deflate", lws_extension_callback_pm_deflate,
     "permessage-deflate; client_no_context_takeover; client_max_window_bits"},
    {nullptr, nullptr, nullptr},
};

}  // namespace

struct LoopHooks {
  ev_prepare before_wait;  // before the loop waits: flush()
  Worker* worker;
};

namespace {

// A request libwebsockets read as plain HTTP on a connection handed to it as a WebSocket upgrade
// (the upgrade was not one it takes): refused, and the connection closed.
int refuse_upgrade(lws* wsi) {
  static const char kBody[] = "{\"error\":\"Not a WebSocket upgrade this server takes\"}";
  static const char kClose[] = "close";
  unsigned char buf[LWS_PRE + 512];
  unsigned char *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf;
  if (lws_add_http_common_headers(wsi, HTTP_STATUS_BAD_REQUEST, "application/json", sizeof kBody - 1, &p, end) ||
      lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION, reinterpret_cast<const unsigned char*>(kClose),
                                   int(sizeof kClose - 1), &p, end) ||
      lws_finalize_http_header(wsi, &p, end) || size_t(end - p) < sizeof kBody)
    return -1;
  memcpy(p, kBody, sizeof kBody - 1);
  p += sizeof kBody - 1;
  lws_write(wsi, start, size_t(p - start), LWS_WRITE_HTTP_FINAL);
  return -1;
}

bool is_websocket_reason(int reason) {
  switch (reason) {
    case LWS_CALLBACK_ESTABLISHED:
    case LWS_CALLBACK_RECEIVE:
    case LWS_CALLBACK_RECEIVE_PONG:
    case LWS_CALLBACK_SERVER_WRITEABLE:
    case LWS_CALLBACK_CLOSED:
      return true;
    default:
      return false;
  }
}

int on_listen_socket(lws* wsi, enum lws_callback_reasons reason, void*, void*, size_t) {
  return listener_callback(wsi, reason);
}

int callback(lws* wsi, enum lws_callback_reasons reason, void* user, void* in, size_t len) {
  auto* worker = static_cast<Worker*>(lws_context_user(lws_get_context(wsi)));
  if (reason == LWS_CALLBACK_EVENT_WAIT_CANCELLED) {  // lws_cancel_service(): mail or stop
    if (worker) worker->drain_mailbox();
    return 0;
  }
  if (reason == LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS)  // the listener's TLS context, made
    return worker && worker->server_tls_made(static_cast<ssl_ctx_st*>(user)) ? 0 : -1;
  auto* session = static_cast<Session*>(user);
  if (reason == LWS_CALLBACK_CONFIRM_EXTENSION_OKAY) {  // only offered with --compression on
    if (session) session->compressed = true;
    return 0;
  }
  if (worker && session && is_websocket_reason(reason)) return on_websocket(*worker, wsi, reason, session, in, len);
  if (reason == LWS_CALLBACK_HTTP) return refuse_upgrade(wsi);
  return lws_callback_http_dummy(wsi, reason, user, in, len);
}

int on_adopted_socket(lws* wsi, enum lws_callback_reasons reason, void* user, void* in, size_t len) {
  return on_raw_socket(wsi, reason, user, in, len);
}

int on_http_client(lws* wsi, enum lws_callback_reasons reason, void*, void* in, size_t len) {
  return on_http_socket(wsi, reason, in, len);
}

int on_bridge_end(lws* wsi, enum lws_callback_reasons reason, void*, void* in, size_t len) {
  return on_bridge_socket(wsi, reason, in, len);
}

// protocols[0] also gets subprotocol-less WebSockets, which is what pusher-js opens.
const lws_protocols kProtocols[] = {
    {"pusher", callback, sizeof(Session), kReceiveBufferBytes, 0, nullptr, kLargestSend},
    {"raptor-listen", on_listen_socket, 0, 0, 0, nullptr, 0},
    {kRawSocketProtocol, on_adopted_socket, 0, 0, 0, nullptr, 0},
    {kHttpProtocol, on_http_client, 0, 4096, 0, nullptr, kLargestSend},
    {kBridgeProtocol, on_bridge_end, 0, kLargestSend, 0, nullptr, kLargestSend},
    {nullptr, nullptr, 0, 0, 0, nullptr, 0},
};

}  // namespace

Worker::Worker(const Config& config, const AppList& apps, Hub& hub, size_t index, std::shared_ptr<Policy> policy)
    : config_(config), index_(index), policy_(std::move(policy)),
      engine_(apps, config.limits, *this, hub, index) {
  engine_.set_policy(policy_.get());
  hub.attach(index, this);
}

Worker::~Worker() {
  while (!arrivals_.empty()) arrivals_.back()->abandon();
  if (context_) lws_context_destroy(context_);
  if (loop_) ev_loop_destroy(loop_);  // after the context, which still detaches from it
  SSL_CTX_free(idle_client_tls_);     // after the context that held it
  delete hooks_;
}

bool Worker::listen() {
  lws_context_creation_info info;
  memset(&info, 0, sizeof info);
  std::string error;
  int fd = open_listen_socket(config_.host, config_.port, error);
  if (fd < 0) {
    log::error("%s", error.c_str());
    return false;
  }
  info.port = CONTEXT_PORT_NO_LISTEN_SERVER;  // a server vhost fed by our own listener
  info.protocols = kProtocols;
  info.user = this;
  info.timeout_secs = 10;  // handshakes and requests that dawdle (slowloris) are dropped
  info.max_http_header_data = 8192;
  info.retry_and_idle_policy = &kNoValidityTimer;
  if (config_.compression) info.extensions = kCompression;
  info.options = LWS_SERVER_OPTION_VALIDATE_UTF8;
  // libev on epoll: a wake-up costs the same at 10 connections or 10,000, where poll() walks
  // every socket each time (docs/performance.md has both measured). One loop library either way,
  // so that our own watchers (net/arrival.h, net/http_connection.h) sit on the same loop as lws.
  bool epoll = config_.event_loop == Config::EventLoop::Epoll;
  loop_ = ev_loop_new(epoll ? EVBACKEND_EPOLL : EVBACKEND_POLL);
  if (!loop_) {
    log::error("cannot create an %s event loop%s", epoll ? "epoll" : "poll", epoll ? " (try --event-loop poll)" : "");
    close(fd);
    return false;
  }
  void* foreign_loops[1] = {loop_};
  info.foreign_loops = foreign_loops;
  info.options |= LWS_SERVER_OPTION_LIBEV;
  if (!config_.tls_cert.empty()) {
    info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    // lws would also give the server's vhost a TLS *client* context, loading every system CA
    // certificate (18 s under ASan here) for connections it never makes: hand it an empty one.
    idle_client_tls_ = SSL_CTX_new(TLS_client_method());
    info.provided_client_ssl_ctx = idle_client_tls_;
    info.ssl_cert_filepath = config_.tls_cert.c_str();
    info.ssl_private_key_filepath = config_.tls_key.c_str();
    info.alpn = "http/1.1";  // the HTTP handlers are written for HTTP/1.1
  }
  context_ = lws_create_context(&info);
  if (context_) listener_ = watch_listen_socket(lws_get_vhost_by_name(context_, "default"), fd, "raptor-listen");
  bridge_vhost_ = context_ ? lws_get_vhost_by_name(context_, "default") : nullptr;
  if (listener_ && !config_.tls_cert.empty()) {
    // A WebSocket upgrade on a TLS connection is served through a socket pair, in plain text.
    lws_context_creation_info plain;
    memset(&plain, 0, sizeof plain);
    plain.port = CONTEXT_PORT_NO_LISTEN_SERVER;
    plain.protocols = kProtocols;
    plain.vhost_name = "bridge";
    plain.max_http_header_data = info.max_http_header_data;
    plain.timeout_secs = info.timeout_secs;
    plain.retry_and_idle_policy = info.retry_and_idle_policy;
    plain.extensions = info.extensions;
    plain.options = LWS_SERVER_OPTION_VALIDATE_UTF8;
    bridge_vhost_ = lws_create_vhost(context_, &plain);
  }
  if (!listener_ || !bridge_vhost_) {
    log::error("cannot serve on %s:%d%s%s", config_.host.c_str(), config_.port,
               config_.tls_cert.empty() ? "" : " (is the TLS certificate/key readable and valid?)",
               " (is libwebsockets' libev plugin, Debian package libwebsockets-evlib-ev, installed?)");
    close(fd);
    return false;
  }
  event_port_ = std::make_unique<LwsEventPort>(lws_get_vhost_by_name(context_, "default"));
  std::lock_guard<std::mutex> lock(mailbox_mutex_);
  accepting_mail_ = true;
  return true;
}

void Worker::tick() {
  engine_.flush_counts();
  for (auto& task : each_second_) task();
}

void Worker::stop_listening() {
  if (listener_) lws_set_timeout(listener_, PENDING_TIMEOUT_KILLED_BY_PARENT, LWS_TO_KILL_SYNC);
  listener_ = nullptr;
}

cluster::EventPort& Worker::event_port() { return *event_port_; }

void Worker::serve(const std::atomic<bool>& stop) {
  signature::prepare_thread();  // the first signature check on this thread is then as quick as the rest
  metrics::Registry::instance().attach(index_);  // this thread counts into worker index_'s block
  send_queues::attach(index_);
  Ticker ticker{};
  ticker.worker = this;
  ticker.context = context_;
  // The first tick at once, from the loop: it connects to Redis now, not a second later. Not
  // called before the loop runs: under libev, a Redis socket adopted and closed (connection
  // refused) before the loop's first pass stopped lws's timers for good, this tick included.
  lws_sul_schedule(context_, 0, &ticker.sul, on_tick, 1);
  stop_ = &stop;
  hooks_ = new LoopHooks;
  ev_prepare_init(&hooks_->before_wait, [](struct ev_loop*, ev_prepare* w, int) {
    static_cast<LoopHooks*>(w->data)->worker->flush();
  });
  hooks_->worker = this;
  hooks_->before_wait.data = hooks_;
  ev_prepare_start(loop_, &hooks_->before_wait);
  ev_run(loop_, 0);  // until drain_mailbox() sees `stop`
  ev_prepare_stop(loop_, &hooks_->before_wait);
  lws_sul_cancel(&ticker.sul);
  std::lock_guard<std::mutex> lock(mailbox_mutex_);
  accepting_mail_ = false;  // nobody wakes the context from now on; ~Worker destroys it
}

void Worker::interrupt() {
  std::lock_guard<std::mutex> lock(mailbox_mutex_);
  if (accepting_mail_) lws_cancel_service(context_);
}

void Worker::wake(Connection& c) {
  auto* wsi = static_cast<lws*>(c.transport_handle());
  if (c.closing()) {
    lws_callback_on_writable(wsi);
    // A closing client that never reads would never become writable: bound the wait.
    lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_SEND, 5);
    return;
  }
  auto* s = static_cast<Session*>(lws_wsi_user(wsi));
  if (s->flush_slot) return;
  to_flush_.push_back(wsi);
  s->flush_slot = uint32_t(to_flush_.size());
}

void Worker::forget(Session& s) {
  to_flush_[s.flush_slot - 1] = nullptr;
  s.flush_slot = 0;
}

void Worker::flush() {
  // By index: a connection woken meanwhile is appended and written in this same pass.
  for (size_t i = 0; i < to_flush_.size(); ++i) {
    lws* wsi = to_flush_[i];
    if (!wsi) continue;
    auto* s = static_cast<Session*>(lws_wsi_user(wsi));
    s->flush_slot = 0;
    if (s->conn) flush_websocket(wsi, *s);
  }
  to_flush_.clear();
}

void Worker::post(Delivery d) {
  std::lock_guard<std::mutex> lock(mailbox_mutex_);
  if (!accepting_mail_) return;  // shutting down: its connections are going away
  mailbox_.push_back(std::move(d));
  if (mailbox_.size() == 1) lws_cancel_service(context_);  // one wake-up per batch
}

bool Worker::run_on_thread(std::function<void()> task) {
  std::lock_guard<std::mutex> lock(mailbox_mutex_);
  if (!accepting_mail_) return false;
  tasks_.push_back(std::move(task));
  lws_cancel_service(context_);
  return true;
}

std::shared_ptr<Policy> Worker::swap_policy(std::shared_ptr<Policy> policy) {
  std::shared_ptr<Policy> old = std::move(policy_);
  policy_ = std::move(policy);
  engine_.set_policy(policy_.get());
  return old;
}

void Worker::drain_mailbox() {
  std::vector<Delivery> batch;
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard<std::mutex> lock(mailbox_mutex_);
    batch.swap(mailbox_);
    tasks.swap(tasks_);
  }
  for (const Delivery& d : batch) engine_.deliver(d);
  for (auto& task : tasks) task();
  tasks.clear();  // what the tasks hold goes here, on this thread
  if (stop_ && stop_->load(std::memory_order_relaxed)) ev_break(loop_, EVBREAK_ALL);
}

void Worker::accept(int fd) {
  peer_addresses_.forget(fd);
  if (config_.tls_cert.empty() || config_.proxy_protocol)
    return Arrival::watch(*this, fd, config_.http_timeouts.head_ms);
  adopt_tls(fd);
}

void Worker::adopt_tls(int fd) {
  lws_adopt_descriptor_vhost(lws_get_vhost_by_name(context_, "default"),
                             static_cast<lws_adoption_type>(LWS_ADOPT_SOCKET | LWS_ADOPT_ALLOW_SSL),
                             lws_sock_file_fd_type{.sockfd = fd}, kHttpProtocol, nullptr);
}

void Worker::adopt_websocket(int fd) {
  lws_adopt_descriptor_vhost(lws_get_vhost_by_name(context_, "default"),
                             static_cast<lws_adoption_type>(LWS_ADOPT_SOCKET | LWS_ADOPT_HTTP),
                             lws_sock_file_fd_type{.sockfd = fd}, nullptr, nullptr);
}

void Worker::adopt_http(int fd) {
  lws_adopt_descriptor_vhost(lws_get_vhost_by_name(context_, "default"), LWS_ADOPT_SOCKET,
                             lws_sock_file_fd_type{.sockfd = fd}, kHttpProtocol, nullptr);
}

bool Worker::server_tls_made(ssl_ctx_st* ctx) {
  server_tls_ = ctx;
  if (auto why = apply_tls_policy(ctx, config_.tls_min_version, config_.tls_ciphers)) {
    log::error("TLS: %s", why->c_str());
    return false;
  }
  return true;
}

std::optional<std::string> Worker::reload_tls(const TlsIdentity& identity) {
  if (!server_tls_) return std::string("this worker serves no TLS");
  if (auto why = apply_tls_policy(server_tls_, config_.tls_min_version, config_.tls_ciphers)) return why;
  return apply_tls_identity(server_tls_, identity);
}

void Worker::departed(Arrival* a) {
  auto it = std::find(arrivals_.begin(), arrivals_.end(), a);
  if (it == arrivals_.end()) return;
  *it = arrivals_.back();
  arrivals_.pop_back();
}

void Worker::answered(uint64_t id, http::Response response) {
  if (HttpConnection* c = answers_.take(id)) c->answered(std::move(response));  // else the client has gone
}

}  // namespace raptor::net
