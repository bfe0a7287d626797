#include "net/http_connection.h"

#include <libwebsockets.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ctime>
#include <vector>

#include "common/client_address.h"
#include "common/log.h"
#include "common/log_rate_limit.h"
#include "config/config.h"
#include "http/api.h"
#include "http/response_format.h"
#include "metrics/counters.h"
#include "net/worker.h"

namespace raptor::net {

const char* const kHttpProtocol = "raptor-http";
const char* const kBridgeProtocol = "raptor-bridge";

namespace {

constexpr uint32_t kRefusalLinesPerSecond = 10;  // per worker (docs/security.md#logs)
// After an answer that ends the connection, what the client still sends is read and dropped
// this long, so that closing with unread input (a reset) cannot destroy the answer in flight.
constexpr double kLingerSeconds = 2.0;
// Input read ahead while an answer is computed (pipelined requests): beyond it, the socket is
// not read until the answer has gone.
constexpr size_t kMostReadAhead = 64 << 10;

// "http 203.0.113.7 GET /path -> 404" (the client's address, common/client_address.h), at most
// kRefusalLinesPerSecond a second on each worker: whoever can send requests could otherwise fill
// the disk with them.
void log_refusal(const std::string& peer, const Config& config, const http::Request& request, int status) {
  thread_local log::RateLimit limit(kRefusalLinesPerSecond);
  if (!log::may_log_now(limit, "http", "requests answered with errors")) return;
  bool forwarded = config.forwarded_header == ForwardedHeader::Forwarded;
  std::string client = client_address(peer, forwarded ? request.forwarded : request.x_forwarded_for,
                                      config.trusted_proxies, config.forwarded_header);
  log::info("http %s %s %s -> %d", log::for_log(client, 64).c_str(),
            log::for_log(request.method.empty() ? "-" : request.method, 16).c_str(),
            log::for_log(request.path.empty() ? "-" : request.path).c_str(), status);
}

// Hands `n` bytes to lws for `wsi`; what the socket does not take now, lws keeps and sends first.
bool write_raw(lws* wsi, const char* bytes, size_t n) {
  static thread_local std::vector<unsigned char> out;
  out.resize(LWS_PRE + n);
  memcpy(out.data() + LWS_PRE, bytes, n);
  return lws_write(wsi, out.data() + LWS_PRE, n, LWS_WRITE_RAW) == int(n);
}

// Copies what arrived on `from` to `to`; `from` is not read again until `to` has sent it all.
int forward(lws* from, lws* to, const void* in, size_t len) {
  if (!write_raw(to, static_cast<const char*>(in), len)) return -1;
  if (lws_partial_buffered(to)) {
    lws_rx_flow_control(from, 0);
    lws_callback_on_writable(to);
  }
  return 0;
}

}  // namespace

HttpConnection::HttpConnection(Worker& worker, lws* wsi) : worker_(worker), wsi_(wsi) {
  if (auto named = worker.peer_addresses().take(lws_get_socket_fd(wsi))) {
    peer_ = std::move(*named);  // the client a trusted proxy's PROXY header named
  } else {
    char peer[64] = "";
    lws_get_peer_simple(wsi, peer, sizeof peer);
    peer_ = peer;
  }
  ev_init(&timer_, on_timer);
  timer_.data = this;
  set_timer();
}

HttpConnection::~HttpConnection() {
  ev_timer_stop(worker_.loop(), &timer_);
  if (awaiting_) worker_.forget_answer(awaiting_);
  if (exchange_open_) worker_.http_exchange_ended();
  unbridge();
}

void HttpConnection::set_timer() {
  const Config::HttpTimeouts& t = worker_.config().http_timeouts;
  int ms = 0;
  if (lingering_) {
    ms = int(kLingerSeconds * 1000);
  } else if (!bridge_ && !awaiting_) {
    switch (reader_.phase()) {
      case http::RequestReader::Phase::Idle:
        ms = served_ ? t.idle_ms : t.head_ms;
        break;
      case http::RequestReader::Phase::Head:
        ms = t.head_ms;
        break;
      case http::RequestReader::Phase::Body:
        ms = t.body_ms;
        break;
    }
    // A request's head and its body each run on their own clock, from their start, not from the
    // last byte; the next request (another answer sent meanwhile) starts a new one.
    if (reader_.phase() == phase_ && served_ == timed_answers_ && ev_is_active(&timer_)) return;
    phase_ = reader_.phase();
    timed_answers_ = served_;
  }
  ev_timer_stop(worker_.loop(), &timer_);
  if (!ms) return;
  ev_timer_set(&timer_, ms / 1000.0, 0);
  ev_timer_start(worker_.loop(), &timer_);
}

void HttpConnection::on_timer(struct ev_loop*, ev_timer* timer, int) {
  auto* c = static_cast<HttpConnection*>(timer->data);
  if (c->lingering_ || c->reader_.phase() == http::RequestReader::Phase::Idle) {
    lws_set_timeout(c->wsi_, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);  // quietly: nothing was asked
    return;
  }
  log_refusal(c->peer_, c->worker_.config(), c->reader_.request(), 408);
  c->respond(http::error(408, "The request took too long to arrive"), true);
}

void HttpConnection::send(const std::string& bytes) {
  if (!write_raw(wsi_, bytes.data(), bytes.size())) end();
}

void HttpConnection::respond(const http::Response& r, bool close) {
  http::Framing f;
  f.close = close;
  f.head_only = reader_.request().method == "HEAD";
  f.keep_alive_s = worker_.config().http_timeouts.idle_ms / 1000;
  send(http::format_response(r, f));
  ++served_;
  if (close) end();
}

void HttpConnection::end() {
  if (ending_) return;
  ending_ = true;
  lws_callback_on_writable(wsi_);  // closes once lws has sent all it holds (on_client, writable)
}

void HttpConnection::answered(http::Response response) {
  metrics::http_answered(response.status, metrics::steady_us() - request_read_us_);
  awaiting_ = 0;
  if (exchange_open_) worker_.http_exchange_ended();
  exchange_open_ = false;
  if (response.status >= 400) log_refusal(peer_, worker_.config(), reader_.request(), response.status);
  // While the node drains, every answer closes its connection: the client's next request goes
  // through the load balancer to another node.
  respond(response, !reader_.keep_alive() || worker_.engine().draining());
  if (!reading_) read_on();
}

void HttpConnection::read_on() {
  reading_ = true;
  while (!awaiting_ && !ending_ && !bridge_) {
    switch (reader_.next()) {
      case http::RequestReader::Event::NeedMore:
        reading_ = false;
        if (paused_) lws_rx_flow_control(wsi_, 1);
        paused_ = false;
        set_timer();
        return;
      case http::RequestReader::Event::SendContinue:
        send(http::kContinue);
        break;
      case http::RequestReader::Event::Request: {
        worker_.http_exchange_began();
        exchange_open_ = true;
        uint64_t id = awaiting_ = worker_.await_answer(this);
        Worker& worker = worker_;
        request_read_us_ = metrics::steady_us();
        http::handle(worker_.engine(), reader_.request(), time(nullptr),
                     [&worker, id](http::Response r) { worker.answered(id, std::move(r)); });
        break;  // answered() has run unless the answer waits for Redis
      }
      case http::RequestReader::Event::Refuse:
        log_refusal(peer_, worker_.config(), reader_.request(), reader_.refusal().status);
        metrics::http_answered(reader_.refusal().status, 0);
        respond(reader_.refusal(), reader_.closes());
        break;
      case http::RequestReader::Event::Upgrade:
        bridge(reader_.upgrade_bytes());
        break;
    }
  }
  reading_ = false;
  set_timer();
}

int HttpConnection::on_client(int reason, void* in, size_t len) {
  switch (reason) {
    case LWS_CALLBACK_RAW_RX:
      if (bridge_) return forward(wsi_, bridge_, in, len);
      if (lingering_ || ending_) return 0;  // dropped: the answer that ends the connection is out
      reader_.feed(static_cast<const char*>(in), len);
      if (!awaiting_) {
        read_on();
      } else if (!paused_ && reader_.buffered() > kMostReadAhead) {
        paused_ = true;  // read on once the answer has gone (read_on)
        lws_rx_flow_control(wsi_, 0);
      }
      return 0;
    case LWS_CALLBACK_RAW_WRITEABLE:
      if (bridge_) {
        if (!lws_partial_buffered(wsi_)) lws_rx_flow_control(bridge_, 1);
        return 0;
      }
      if (!ending_ || lingering_) return 0;
      if (lws_partial_buffered(wsi_)) {
        lws_callback_on_writable(wsi_);
        return 0;
      }
      if (lws_is_ssl(wsi_)) return -1;
      // All sent: no more from us, and what the client still sends is dropped for a while.
      shutdown(lws_get_socket_fd(wsi_), SHUT_WR);
      lingering_ = true;
      set_timer();
      return 0;
    default:
      return 0;
  }
}

int HttpConnection::on_bridge(int reason, void* in, size_t len) {
  switch (reason) {
    case LWS_CALLBACK_RAW_RX:
      return forward(bridge_, wsi_, in, len);
    case LWS_CALLBACK_RAW_WRITEABLE:
      if (!lws_partial_buffered(bridge_)) lws_rx_flow_control(wsi_, 1);
      return 0;
    case LWS_CALLBACK_RAW_CLOSE:
      // The WebSocket side has closed: the client's connection ends once it has what was sent.
      lws_set_opaque_user_data(bridge_, nullptr);
      bridge_ = nullptr;
      ending_ = true;
      lws_set_timeout(wsi_, PENDING_TIMEOUT_USER_OK, 5);  // a client that never reads cannot hold it
      lws_callback_on_writable(wsi_);
      return 0;
    default:
      return 0;
  }
}

// The client's bytes go to libwebsockets' WebSocket side through a socket pair. The upgrade
// request is written into the pair first, so lws reads it as from any client, and the real
// client's address is left with the worker for the handshake (net/peer_addresses.h).
void HttpConnection::bridge(const std::string& upgrade) {
  int ends[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, ends)) {
    log::warn("http: cannot make a socket pair for a WebSocket upgrade: %s", strerror(errno));
    return respond(http::error(503, "Out of resources: try again"), true);
  }
  if (write(ends[0], upgrade.data(), upgrade.size()) != ssize_t(upgrade.size())) {
    close(ends[0]);
    close(ends[1]);
    return respond(http::error(503, "Out of resources: try again"), true);
  }
  ev_timer_stop(worker_.loop(), &timer_);
  lws_vhost* vhost = worker_.bridge_vhost();
  bridge_ = lws_adopt_descriptor_vhost(vhost, LWS_ADOPT_SOCKET, lws_sock_file_fd_type{.sockfd = ends[0]},
                                       kBridgeProtocol, nullptr);
  if (!bridge_) {
    close(ends[1]);
    return respond(http::error(503, "Out of resources: try again"), true);
  }
  lws_set_opaque_user_data(bridge_, this);
  worker_.peer_addresses().note(ends[1], peer_);
  if (!lws_adopt_descriptor_vhost(vhost, static_cast<lws_adoption_type>(LWS_ADOPT_SOCKET | LWS_ADOPT_HTTP),
                                  lws_sock_file_fd_type{.sockfd = ends[1]}, nullptr, nullptr)) {
    worker_.peer_addresses().take(ends[1]);
    unbridge();
    respond(http::error(503, "Out of resources: try again"), true);
  }
}

void HttpConnection::unbridge() {
  if (!bridge_) return;
  lws_set_opaque_user_data(bridge_, nullptr);
  lws_set_timeout(bridge_, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
  bridge_ = nullptr;
}

int on_http_socket(lws* wsi, int reason, void* in, size_t len) {
  auto* c = static_cast<HttpConnection*>(lws_get_opaque_user_data(wsi));
  if (reason == LWS_CALLBACK_RAW_ADOPT) {
    auto* worker = static_cast<Worker*>(lws_context_user(lws_get_context(wsi)));
    lws_set_opaque_user_data(wsi, new HttpConnection(*worker, wsi));
    return 0;
  }
  if (!c) return 0;
  if (reason == LWS_CALLBACK_RAW_CLOSE) {
    lws_set_opaque_user_data(wsi, nullptr);
    delete c;
    return 0;
  }
  return c->on_client(reason, in, len);
}

int on_bridge_socket(lws* wsi, int reason, void* in, size_t len) {
  auto* c = static_cast<HttpConnection*>(lws_get_opaque_user_data(wsi));
  return c ? c->on_bridge(reason, in, len) : 0;
}

}  // namespace raptor::net
