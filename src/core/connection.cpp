#include "core/connection.h"

#include "core/send_queue_totals.h"

namespace raptor {

bool Connection::enqueue(FramePtr frame, size_t limit_bytes) {
  if (queued_bytes_ + frame->size() > limit_bytes && !queue_.empty()) return false;
  queued_bytes_ += frame->size();
  send_queues::add(int64_t(frame->size()));
  queue_.push(std::move(frame));
  return true;
}

Connection::~Connection() { send_queues::add(-int64_t(queued_bytes_)); }

void Connection::pop_front() {
  queued_bytes_ -= queue_.front()->size();
  send_queues::add(-int64_t(queue_.front()->size()));
  queue_.pop();
}

void Connection::begin_close(int code, std::string reason, bool discard_queue) {
  if (closing()) return;
  close_code_ = code;
  close_reason_ = std::make_unique<std::string>(std::move(reason));
  if (discard_queue) {
    send_queues::add(-int64_t(queued_bytes_));
    queue_.clear();
    queued_bytes_ = 0;
  }
}

bool Connection::take_client_event_token(int64_t now_ms) {
  if (now_ms - rate_window_start_ms_ >= 1000) {
    rate_window_start_ms_ = now_ms;
    rate_window_count_ = 0;
  }
  return ++rate_window_count_ <= app_.client_events_per_second;
}

}  // namespace raptor
