// How a Redis connection waits on its worker's event loop. cluster/ (the only code that knows
// hiredis) asks for these; net/ (the only code that knows libwebsockets) implements them for
// both of its loops, epoll and poll, so the Redis sockets are served by the same loop as the
// worker's clients and nothing needs a lock.
#pragma once

namespace raptor::cluster {

class EventPort {
 public:
  // Told when its socket can be read or written; on the worker's thread.
  class Handler {
   public:
    virtual ~Handler() = default;
    virtual void on_readable() = 0;
    virtual void on_writable() = 0;
  };
  struct Watch;  // opaque to cluster/

  virtual ~EventPort() = default;
  // Watches `fd` for reading from now on; null when the loop refused it. The handler is told
  // until unwatch().
  virtual Watch* watch(int fd, Handler& handler) = 0;
  // One on_writable() once the socket can take more.
  virtual void want_write(Watch* w) = 0;
  // The handler is told nothing more; the loop lets go of the socket.
  virtual void unwatch(Watch* w) = 0;
};

}  // namespace raptor::cluster
