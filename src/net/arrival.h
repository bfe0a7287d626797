// A plain connection just accepted, before anyone reads from it. Its first request decides who
// serves it: a WebSocket upgrade goes to libwebsockets as it is (which reads the request itself),
// anything else to net/http_connection.h. The request is looked at with MSG_PEEK, so nothing is
// taken from the socket; SO_RCVLOWAT keeps the loop from waking again until more has arrived.
// With --proxy-protocol, the PROXY header comes first: it is read off the socket (its client
// noted when the peer is a trusted proxy, peer_addresses.h), then the request is looked at, or
// TLS handed to lws. No header, or a malformed one, closes the connection.
#pragma once
#include <ev.h>

namespace raptor::net {

class Worker;

class Arrival {
 public:
  // Watches `fd` (owned from now on) on the worker's loop; deletes itself once handed on.
  static void watch(Worker& worker, int fd, int timeout_ms);
  // Closes a connection still waiting (the worker is stopping).
  void abandon();

 private:
  Arrival(Worker& worker, int fd);
  static void on_readable(struct ev_loop* loop, ev_io* io, int events);
  static void on_timeout(struct ev_loop* loop, ev_timer* timer, int events);
  void stop();
  // Reads the PROXY header from what was peeked: false when the arrival waits for more or has
  // been abandoned (deleted), true when the header is gone from the socket.
  bool read_proxy_header(char* peeked, size_t n);
  // Waits until more than `n` bytes are there, unless no more came since last time (the client
  // shut its side): false then.
  bool wait_for_more(size_t n);

  ev_io io_;  // first: the callback gets &io_
  ev_timer timer_;
  Worker& worker_;
  int fd_;
  size_t seen_ = 0;  // bytes peeked so far
  bool proxy_header_due_;
};

}  // namespace raptor::net
