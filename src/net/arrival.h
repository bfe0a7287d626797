// A plain connection just accepted, before anyone reads from it. Its first request decides who
// serves it: a WebSocket upgrade goes to libwebsockets as it is (which reads the request itself),
// anything else to net/http_connection.h. The request is looked at with MSG_PEEK, so nothing is
// taken from the socket; SO_RCVLOWAT keeps the loop from waking again until more has arrived.
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

  ev_io io_;  // first: the callback gets &io_
  ev_timer timer_;
  Worker& worker_;
  int fd_;
  size_t seen_ = 0;  // bytes peeked so far
};

}  // namespace raptor::net
