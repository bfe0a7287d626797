// core/connection_sweeps: liveness verdicts, and the passes that close connections (liveness,
// retired apps, drain, the send-queue ceiling).
#include "core/connection_sweeps.h"

#include <cstdint>

#include "core/send_queue_totals.h"
#include "protocol/errors.h"
#include "support.h"

using namespace raptor;
using namespace raptor::test;

namespace {
constexpr size_t send_queues_test_slot = 63;  // a worker slot no unit test serves from
}  // namespace

TEST_CASE("liveness: a ping after the activity timeout, a close after the pong timeout", "[liveness]") {
  App app = reference_app();
  EngineLimits limits;
  limits.activity_timeout_s = 10;
  limits.pong_timeout_s = 3;
  Connection c(app, "1.1", nullptr, 1000);
  CHECK(liveness_due(c, 1000 + 9'999, limits) == LivenessDue::Nothing);
  CHECK(liveness_due(c, 1000 + 10'000, limits) == LivenessDue::Ping);
  c.ping_sent(11'000);
  CHECK(liveness_due(c, 11'000 + 2'999, limits) == LivenessDue::Nothing);  // not pinged twice
  CHECK(liveness_due(c, 11'000 + 3'000, limits) == LivenessDue::PongTimeout);
  c.saw_activity(14'500);
  CHECK(liveness_due(c, 14'600, limits) == LivenessDue::Nothing);
}

TEST_CASE("liveness: the sign-in deadline applies to anonymous connections of apps that set one", "[liveness]") {
  App app = reference_app();
  Connection c(app, "1.1", nullptr, 0);
  CHECK_FALSE(past_sign_in_deadline(c, 1'000'000));  // no limit
  app.user_authentication_timeout_s = 5;
  CHECK_FALSE(past_sign_in_deadline(c, 4'999));
  CHECK(past_sign_in_deadline(c, 5'000));
  c.set_authorized();
  CHECK_FALSE(past_sign_in_deadline(c, 5'000));
}

TEST_CASE("sweeps: a liveness pass pings, times out and closes anonymous connections", "[liveness]") {
  App app = reference_app();
  app.user_authentication_timeout_s = 60;
  RecordingTransport transport;
  ConnectionTable table;
  Sender sender(transport, 1 << 20);
  ConnectionSweeps sweeps(table, sender);
  EngineLimits limits;
  limits.activity_timeout_s = 10;
  limits.pong_timeout_s = 3;
  Connection* quiet = table.add(app, nullptr, 0);
  Connection* anonymous = table.add(app, nullptr, 0);
  quiet->set_authorized();
  sweeps.check_liveness(0, 1, 10'000, limits);
  CHECK(events_of(drain(*quiet)) == std::vector<std::string>{"pusher:ping"});
  drain(*anonymous);
  anonymous->saw_activity(12'000);  // answered its ping
  sweeps.check_liveness(0, 1, 13'000, limits);
  CHECK(quiet->close_code() == code(CloseCode::PongTimeout));
  require_error(drain(*quiet).at(0), code(CloseCode::PongTimeout));
  CHECK_FALSE(anonymous->closing());
  sweeps.check_liveness(0, 1, 60'000, limits);
  CHECK(anonymous->close_code() == code(CloseCode::Unauthorized));
}

TEST_CASE("sweeps: close_going_away closes at most n open connections, close_retired those of retired apps",
          "[drain]") {
  AppList apps{reference_app("3"), App{"4", "second-key", "second-secret"}};
  RecordingTransport transport;
  ConnectionTable table;
  Sender sender(transport, 1 << 20);
  ConnectionSweeps sweeps(table, sender);
  for (int i = 0; i < 3; ++i) table.add(apps[0], nullptr, 0);
  Connection* other = table.add(apps[1], nullptr, 0);
  apps[1].retired = true;
  CHECK(sweeps.close_retired() == 1);
  CHECK(other->close_code() == code(CloseCode::UnknownApp));
  require_error(drain(*other).at(0), code(CloseCode::UnknownApp));
  CHECK(sweeps.close_retired() == 0);
  CHECK(sweeps.close_going_away(2) == 2);
  CHECK(table.open_count() == 1);
  CHECK(sweeps.close_going_away(5) == 1);
  CHECK(table.open_count() == 0);
}

TEST_CASE("sweeps: over the send-queue ceiling, the largest queues are closed with 4100 first, until under it", "[send-queue-ceiling]") {
  send_queues::attach(send_queues_test_slot);  // the total counts workers' slots only
  App app = reference_app();
  RecordingTransport transport;
  ConnectionTable table;
  Sender sender(transport, 1 << 20);
  ConnectionSweeps sweeps(table, sender);
  auto queued = [&](size_t bytes) {
    Connection* c = table.add(app, nullptr, 0);
    c->enqueue(Frame::make(std::string(bytes, 'x')), SIZE_MAX);
    return c;
  };
  Connection* slowest = queued(600'000);
  Connection* slow = queued(100'000);
  Connection* fast = queued(10'000);
  CHECK(send_queues::total() == 710'000);
  CHECK(sweeps.close_largest_queues(0) == 0);          // no ceiling
  CHECK(sweeps.close_largest_queues(800'000) == 0);    // under it
  CHECK(sweeps.close_largest_queues(50'000) == 1);
  CHECK(slowest->close_code() == code(CloseCode::OverCapacity));
  CHECK(slowest->queued_bytes() == 0);  // its queue dropped at once: the memory is the point
  CHECK_FALSE(slow->closing());         // under half the largest: it waits for the next pass
  CHECK(sweeps.close_largest_queues(50'000) == 1);
  CHECK(slow->close_code() == code(CloseCode::OverCapacity));
  CHECK_FALSE(fast->closing());  // 10,000 bytes left: under the ceiling
  CHECK(send_queues::total() == 10'000);
  table.remove(*fast);
  CHECK(send_queues::total() == 0);  // a deleted connection's bytes leave the total
}
