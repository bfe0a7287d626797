#include <libwebsockets.h>

#include <unistd.h>

#include <cstring>

#include "common/log.h"
#include "net/listener.h"
#include "net/server.h"

namespace raptor::net {
namespace {

static_assert(LWS_PRE <= kFrameHeadroom, "frames need LWS_PRE bytes of headroom");

struct Ticker {
  lws_sorted_usec_list_t sul;  // first: the callback gets &sul
  Worker* worker;
  lws_context* context;
};

void on_tick(lws_sorted_usec_list_t* sul) {
  auto* t = reinterpret_cast<Ticker*>(sul);
  t->worker->engine().tick();
  lws_sul_schedule(t->context, 0, &t->sul, on_tick, LWS_US_PER_SEC);
}

// No lws "validity" timer per connection: the engine does its own liveness (activity timeout,
// ping, 4201), and lws keeps those timers in a sorted list whose insertion walks every other
// connection's timer, which made accepting connections O(n) each.
const lws_retry_bo_t kNoValidityTimer = {};

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
  auto* session = static_cast<Session*>(user);
  if (worker && session) {
    if (is_websocket_reason(reason)) return on_websocket(*worker, wsi, reason, session, in, len);
    int r = on_http(*worker, wsi, reason, session, in, len);
    if (r != 1) return r;  // 1: not an HTTP reason it handles
  }
  return lws_callback_http_dummy(wsi, reason, user, in, len);
}

// protocols[0] also gets subprotocol-less WebSockets, which is what pusher-js opens.
const lws_protocols kProtocols[] = {
    {"pusher", callback, sizeof(Session), 512, 0, nullptr, 0},
    {"raptor-listen", on_listen_socket, 0, 0, 0, nullptr, 0},
    {nullptr, nullptr, 0, 0, 0, nullptr, 0},
};

}  // namespace

Worker::Worker(const Config& config, Hub& hub, size_t index)
    : config_(config), engine_(config.apps, config.limits, *this, hub, index) {
  hub.attach(index, this);
}

Worker::~Worker() {
  if (context_) lws_context_destroy(context_);
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
  // lws's own poll() loop: measured faster for fan-out than its libuv (epoll) plugin, which
  // pays a syscall per socket turned writable (docs/performance.md).
  info.options = LWS_SERVER_OPTION_VALIDATE_UTF8;
  if (!config_.tls_cert.empty()) {
    info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.ssl_cert_filepath = config_.tls_cert.c_str();
    info.ssl_private_key_filepath = config_.tls_key.c_str();
    info.alpn = "http/1.1";  // the HTTP handlers are written for HTTP/1.1
  }
  context_ = lws_create_context(&info);
  if (!context_ || !watch_listen_socket(lws_get_vhost_by_name(context_, "default"), fd, "raptor-listen")) {
    log::error("cannot serve on %s:%d%s", config_.host.c_str(), config_.port,
               config_.tls_cert.empty() ? "" : " (is the TLS certificate/key readable and valid?)");
    close(fd);
    return false;
  }
  std::lock_guard<std::mutex> lock(mailbox_mutex_);
  accepting_mail_ = true;
  return true;
}

void Worker::serve(const std::atomic<bool>& stop) {
  Ticker ticker{};
  ticker.worker = this;
  ticker.context = context_;
  lws_sul_schedule(context_, 0, &ticker.sul, on_tick, LWS_US_PER_SEC);
  while (!stop.load(std::memory_order_relaxed) && lws_service(context_, 0) >= 0) {
  }
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
  lws_callback_on_writable(wsi);
  // A closing client that never reads would never become writable: bound the wait.
  if (c.closing()) lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_SEND, 5);
}

void Worker::post(Delivery d) {
  std::lock_guard<std::mutex> lock(mailbox_mutex_);
  if (!accepting_mail_) return;  // shutting down: its connections are going away
  mailbox_.push_back(std::move(d));
  if (mailbox_.size() == 1) lws_cancel_service(context_);  // one wake-up per batch
}

void Worker::drain_mailbox() {
  std::vector<Delivery> batch;
  {
    std::lock_guard<std::mutex> lock(mailbox_mutex_);
    batch.swap(mailbox_);
  }
  for (const Delivery& d : batch) engine_.deliver(d);
}

}  // namespace raptor::net
