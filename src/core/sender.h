// How the engine's parts put frames on a connection: queue the frame, wake the transport when
// the queue stops being empty, and close a connection whose queue outgrows its bound (a slow
// consumer) rather than let it hold the worker's memory. Every part that answers or delivers to
// a client goes through one Sender, so the bound and the wake-up rule live here only.
// Single-threaded: the worker's loop.
#pragma once
#include <cstddef>
#include <string_view>

#include "core/connection.h"
#include "core/frame.h"

namespace raptor {

// What the engine asks of the transport.
class Transport {
 public:
  virtual ~Transport() = default;
  // The connection has frames to write or a close to carry out.
  virtual void wake(Connection& c) = 0;
};

class Sender {
 public:
  Sender(Transport& transport, size_t max_queue_bytes) : transport_(transport), max_queue_bytes_(max_queue_bytes) {}

  // A reload's new bound applies from the next frame on.
  void set_max_queue_bytes(size_t bytes) { max_queue_bytes_ = bytes; }

  // Nothing is sent to a closing connection.
  void send(Connection& c, FramePtr frame);
  void send(Connection& c, std::string_view text) { send(c, Frame::make(text)); }
  void send_error(Connection& c, int code, std::string_view message);
  // Marks `c` closing with `code` and wakes the transport, which closes it once its queue is
  // written (or at once, with `discard_queue`). A second close changes nothing.
  void close(Connection& c, int code, std::string_view reason, bool discard_queue = false);
  // Closes a client that does not read fast enough with 4100, its queue dropped at once (the
  // memory is what this is for), and logs the decision (common/websocket_refusal_log.h).
  void drop_slow(Connection& c, std::string_view reason);

 private:
  Transport& transport_;
  size_t max_queue_bytes_;
};

}  // namespace raptor
