#include "net/arrival.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <vector>

#include "http/request_reader.h"
#include "http/response_format.h"
#include "net/worker.h"

namespace raptor::net {
namespace {

// A request head is at most this long (http::ReaderLimits: 16 KiB of fields and an 8 KiB
// target): whatever is still undecided then is the HTTP side's to refuse.
constexpr size_t kMostPeeked = 24 << 10;

void set_low_water(int fd, int bytes) { setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &bytes, sizeof bytes); }

}  // namespace

Arrival::Arrival(Worker& worker, int fd) : worker_(worker), fd_(fd) {}

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
  http::RequestReader probe;
  probe.feed(peeked.data(), size_t(n));
  http::RequestReader::Event e = probe.next();
  // Undecided and still coming: wait for more. No more than last time means the client has shut
  // its side (readable at end of stream): the HTTP side reads what there is and closes.
  if (e == http::RequestReader::Event::NeedMore && size_t(n) < peeked.size() && size_t(n) > a->seen_) {
    a->seen_ = size_t(n);
    set_low_water(a->fd_, int(n) + 1);  // readable again once more than this has come
    return;
  }
  a->stop();
  if (a->seen_) set_low_water(a->fd_, 1);
  if (e == http::RequestReader::Event::Upgrade)
    a->worker_.adopt_websocket(a->fd_);
  else
    a->worker_.adopt_http(a->fd_);
  delete a;
}

// The head did not come in time: 408 if part of it did, and closed either way.
void Arrival::on_timeout(struct ev_loop*, ev_timer* timer, int) {
  auto* a = static_cast<Arrival*>(timer->data);
  if (a->seen_) {
    std::string answer = http::format_response(http::error(408, "The request took too long to arrive"), {true});
    (void)!send(a->fd_, answer.data(), answer.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  }
  a->abandon();
}

}  // namespace raptor::net
