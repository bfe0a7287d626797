#include "net/server.h"

#include <libwebsockets.h>

#include <csignal>
#include <cstring>

#include "common/log.h"

namespace raptor::net {
namespace {

static_assert(LWS_PRE <= kFrameHeadroom, "frames need LWS_PRE bytes of headroom");

volatile sig_atomic_t g_stop = 0;
lws_context* g_context = nullptr;

void on_signal(int) {
  g_stop = 1;
  if (g_context) lws_cancel_service(g_context);
}

struct Ticker {
  lws_sorted_usec_list_t sul;  // first: the callback gets &sul
  Server* server;
  lws_context* context;
};

void on_tick(lws_sorted_usec_list_t* sul) {
  auto* t = reinterpret_cast<Ticker*>(sul);
  t->server->engine().tick();
  lws_sul_schedule(t->context, 0, &t->sul, on_tick, LWS_US_PER_SEC);
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

int callback(lws* wsi, enum lws_callback_reasons reason, void* user, void* in, size_t len) {
  auto* server = static_cast<Server*>(lws_context_user(lws_get_context(wsi)));
  auto* session = static_cast<Session*>(user);
  if (server && session) {
    if (is_websocket_reason(reason)) return on_websocket(*server, wsi, reason, session, in, len);
    int r = on_http(*server, wsi, reason, session, in, len);
    if (r != 1) return r;  // 1: not an HTTP reason it handles
  }
  return lws_callback_http_dummy(wsi, reason, user, in, len);
}

// protocols[0] also gets subprotocol-less WebSockets, which is what pusher-js opens.
const lws_protocols kProtocols[] = {
    {"pusher", callback, sizeof(Session), 4096, 0, nullptr, 0},
    {nullptr, nullptr, 0, 0, 0, nullptr, 0},
};

bool is_ipv4_literal(const std::string& host) {
  return !host.empty() && host.find(':') == std::string::npos &&
         host.find_first_not_of("0123456789.") == std::string::npos;
}

}  // namespace

Server::Server(const Config& config) : config_(config) {
  engine_ = std::make_unique<Engine>(config_.apps, config_.limits, *this);
}

Server::~Server() {
  if (context_) lws_context_destroy(context_);
  g_context = nullptr;
}

void Server::wake(Connection& c) {
  auto* wsi = static_cast<lws*>(c.transport_handle());
  lws_callback_on_writable(wsi);
  // A closing client that never reads would never become writable: bound the wait.
  if (c.closing()) lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_SEND, 5);
}

int Server::run() {
  lws_set_log_level(LLL_ERR | LLL_WARN, nullptr);
  lws_context_creation_info info;
  memset(&info, 0, sizeof info);
  info.port = config_.port;
  info.iface = config_.host.c_str();
  info.protocols = kProtocols;
  info.user = this;
  info.timeout_secs = 10;  // handshakes and requests that dawdle (slowloris) are dropped
  info.max_http_header_data = 8192;
  info.options = LWS_SERVER_OPTION_VALIDATE_UTF8;
  // lws binds the IPv6 wildcard for an IPv4 address unless told not to.
  if (is_ipv4_literal(config_.host)) info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
  if (!config_.tls_cert.empty()) {
    info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.ssl_cert_filepath = config_.tls_cert.c_str();
    info.ssl_private_key_filepath = config_.tls_key.c_str();
    info.alpn = "http/1.1";  // the HTTP handlers are written for HTTP/1.1
  }
  context_ = lws_create_context(&info);
  if (!context_) {
    log::error("cannot listen on %s:%d%s", config_.host.c_str(), config_.port,
               config_.tls_cert.empty() ? "" : " (or the TLS certificate/key could not be loaded)");
    return 1;
  }
  g_context = context_;
  signal(SIGPIPE, SIG_IGN);
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);

  Ticker ticker{};
  ticker.server = this;
  ticker.context = context_;
  lws_sul_schedule(context_, 0, &ticker.sul, on_tick, LWS_US_PER_SEC);

  log::info("listening on %s:%d (%s)", config_.host.c_str(), config_.port,
            config_.tls_cert.empty() ? "ws, http" : "wss, https");
  while (!g_stop && lws_service(context_, 0) >= 0) {
  }
  log::info("shutting down");
  lws_sul_cancel(&ticker.sul);
  lws_context_destroy(context_);
  context_ = nullptr;
  g_context = nullptr;
  return 0;
}

}  // namespace raptor::net
