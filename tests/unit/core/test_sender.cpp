// core/sender: frames queued, the transport woken once per non-empty queue, slow consumers closed.
#include "core/sender.h"

#include "protocol/errors.h"
#include "support.h"

using namespace raptor;
using namespace raptor::test;

TEST_CASE("sender wakes the transport when a queue stops being empty, not for every frame", "[sender]") {
  App app = reference_app();
  RecordingTransport transport;
  Sender sender(transport, 1 << 20);
  Connection c(app, "1.1", nullptr, 0);
  sender.send(c, std::string_view("{\"event\":\"a\"}"));
  sender.send(c, std::string_view("{\"event\":\"b\"}"));
  CHECK(transport.wakes_of(&c) == 1);
  CHECK(events_of(drain(c)) == std::vector<std::string>{"a", "b"});
  sender.send_error(c, 4300, "bad");
  CHECK(transport.wakes_of(&c) == 2);
  require_error(drain(c).at(0), 4300);
}

TEST_CASE("sender closes a slow consumer with 4100, dropping its queue, and sends nothing after a close",
          "[sender]") {
  App app = reference_app();
  RecordingTransport transport;
  Sender sender(transport, 64);
  Connection c(app, "1.1", nullptr, 0);
  std::string frame = "{\"event\":\"e\",\"data\":\"" + std::string(40, 'x') + "\"}";
  sender.send(c, std::string_view(frame));  // an empty queue takes any frame
  sender.send(c, std::string_view(frame));
  REQUIRE(c.closing());
  CHECK(c.close_code() == code(CloseCode::OverCapacity));
  CHECK_FALSE(c.has_pending());
  int wakes = transport.wakes_of(&c);
  sender.send(c, std::string_view(frame));
  sender.close(c, 4200, "again");
  CHECK(c.close_code() == code(CloseCode::OverCapacity));
  CHECK(transport.wakes_of(&c) == wakes);
}

TEST_CASE("sender applies a new queue bound from the next frame", "[sender]") {
  App app = reference_app();
  RecordingTransport transport;
  Sender sender(transport, 64);
  Connection c(app, "1.1", nullptr, 0);
  std::string frame = "{\"event\":\"e\",\"data\":\"" + std::string(40, 'x') + "\"}";
  sender.set_max_queue_bytes(1 << 20);
  sender.send(c, std::string_view(frame));
  sender.send(c, std::string_view(frame));
  CHECK_FALSE(c.closing());
}
