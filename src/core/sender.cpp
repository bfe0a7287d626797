#include "core/sender.h"

#include <string>

#include "common/websocket_refusal_log.h"
#include "metrics/counters.h"
#include "protocol/errors.h"
#include "protocol/messages.h"

namespace raptor {

void Sender::send(Connection& c, FramePtr frame) {
  if (c.closing()) return;
  metrics::frame_out(frame->size());
  bool was_idle = !c.has_pending();
  if (!c.enqueue(std::move(frame), max_queue_bytes_)) {
    drop_slow(c, "Client too slow: send queue full");
    return;
  }
  if (was_idle) transport_.wake(c);
}

void Sender::send_error(Connection& c, int error_code, std::string_view message) {
  send(c, messages::error(error_code, message));
}

void Sender::drop_slow(Connection& c, std::string_view reason) {
  if (c.closing()) return;
  log::websocket_dropped(c.socket_id(), code(CloseCode::OverCapacity), reason);
  close(c, code(CloseCode::OverCapacity), reason, true);
}

void Sender::close(Connection& c, int close_code, std::string_view reason, bool discard_queue) {
  if (c.closing()) return;
  c.begin_close(close_code, std::string(reason), discard_queue);
  transport_.wake(c);
}

}  // namespace raptor
