#include "net/arrival.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <vector>

#include "common/client_address.h"
#include "common/log.h"
#include "common/log_rate_limit.h"
#include "config/config.h"
#include "http/request_reader.h"
#include "http/response_format.h"
#include "net/worker.h"
#include "protocol/proxy_header.h"

namespace raptor::net {
namespace {

// A request head is at most this long (http::ReaderLimits: 16 KiB of fields and an 8 KiB
// target): whatever is still undecided then is the HTTP side's to refuse.
constexpr size_t kMostPeeked = 24 << 10;

void set_low_water(int fd, int bytes) { setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &bytes, sizeof bytes); }

// "proxy protocol: closed a connection from ADDRESS: WHY", at most 10 lines a second per worker.
void log_refusal(const char* peer, const std::string& why) {
  thread_local log::RateLimit limit(10);
  if (!log::may_log_now(limit, "proxy protocol", "closed connections")) return;
  log::info("proxy protocol: closed a connection from %s: %s", peer, log::for_log(why).c_str());
}

// The TCP peer's address as text ("" if the socket has none).
void peer_of(int fd, char* out, size_t size) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return;
  if (address.ss_family == AF_INET)
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&address)->sin_addr, out, socklen_t(size));
  else if (address.ss_family == AF_INET6)
    inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&address)->sin6_addr, out, socklen_t(size));
}

}  // namespace

Arrival::Arrival(Worker& worker, int fd)
    : worker_(worker), fd_(fd), proxy_header_due_(worker.config().proxy_protocol) {}

void Arrival::watch(Worker& worker, int fd, int timeout_ms) {
  auto* a = new Arrival(worker, fd);
  ev_io_init(&a->io_, on_readable, fd, EV_READ);
  ev_timer_init(&a->timer_, on_timeout, timeout_ms / 1000.0, 0);
  a->io_.data = a->timer_.data = a;
  ev_io_start(worker.loop(), &a->io_);
  ev_timer_start(worker.loop(), &a->timer_);
  worker.arrived(a);
}

void Arrival::stop() {
  ev_io_stop(worker_.loop(), &io_);
  ev_timer_stop(worker_.loop(), &timer_);
  worker_.departed(this);
}

void Arrival::abandon() {
  stop();
  close(fd_);
  delete this;
}

void Arrival::on_readable(struct ev_loop*, ev_io* io, int) {
  auto* a = static_cast<Arrival*>(io->data);
  static thread_local std::vector<char> peeked(kMostPeeked);
  ssize_t n = recv(a->fd_, peeked.data(), peeked.size(), MSG_PEEK);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) return a->abandon();  // gone before it asked anything
  if (a->proxy_header_due_) {
    if (!a->read_proxy_header(peeked.data(), size_t(n))) return;
    if (!a->worker_.config().tls_cert.empty()) {
      a->stop();
      a->worker_.adopt_tls(a->fd_);
      delete a;
    }
    return;  // the request (or nothing yet) follows: readable again if it is there
  }
  http::RequestReader probe;
  probe.feed(peeked.data(), size_t(n));
  http::RequestReader::Event e = probe.next();
  // Undecided and still coming: wait for more. No more than last time means the client has shut
  // its side (readable at end of stream): the HTTP side reads what there is and closes.
  if (e == http::RequestReader::Event::NeedMore && size_t(n) < peeked.size() && a->wait_for_more(size_t(n))) return;
  a->stop();
  if (a->seen_) set_low_water(a->fd_, 1);
  if (e == http::RequestReader::Event::Upgrade)
    a->worker_.adopt_websocket(a->fd_);
  else
    a->worker_.adopt_http(a->fd_);
  delete a;
}

bool Arrival::wait_for_more(size_t n) {
  if (n <= seen_) return false;
  seen_ = n;
  set_low_water(fd_, int(n) + 1);  // readable again once more than this has come
  return true;
}

bool Arrival::read_proxy_header(char* peeked, size_t n) {
  proxy_header::Parsed header = proxy_header::parse(std::string_view(peeked, n));
  if (header.kind == proxy_header::Parsed::Kind::NeedMore && wait_for_more(n)) return false;
  char peer[INET6_ADDRSTRLEN] = "";
  peer_of(fd_, peer, sizeof peer);
  if (header.kind != proxy_header::Parsed::Kind::Done) {
    // Nothing to answer in: the bytes are not ours to read as HTTP (a client that bypassed the
    // load balancer, or one that speaks something else).
    log_refusal(peer, header.kind == proxy_header::Parsed::Kind::Invalid ? header.error : "it ended within the header");
    abandon();
    return false;
  }
  // Taken off the socket: what follows is the client's own.
  if (recv(fd_, peeked, header.length, MSG_DONTWAIT) != ssize_t(header.length)) {
    abandon();
    return false;
  }
  // The named client is believed from a trusted proxy only; a LOCAL header (a health check) names none.
  if (!header.source.empty() && in_ranges(peer, worker_.config().trusted_proxies))
    worker_.peer_addresses().note(fd_, header.source);
  proxy_header_due_ = false;
  seen_ = 0;
  set_low_water(fd_, 1);
  return true;
}

// The head did not come in time: 408 if part of it did, and closed either way. A PROXY header
// that did not come is logged, and not answered in HTTP.
void Arrival::on_timeout(struct ev_loop*, ev_timer* timer, int) {
  auto* a = static_cast<Arrival*>(timer->data);
  if (a->proxy_header_due_) {
    char peer[INET6_ADDRSTRLEN] = "";
    peer_of(a->fd_, peer, sizeof peer);
    log_refusal(peer, "no complete PROXY protocol header within the head timeout");
  } else if (a->seen_) {
    std::string answer = http::format_response(http::error(408, "The request took too long to arrive"), {true});
    (void)!send(a->fd_, answer.data(), answer.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  }
  a->abandon();
}

}  // namespace raptor::net
