// core/connection: the bounded send queue, closing, liveness and the client-event rate limit.
#include "core/connection.h"

#include <string>

#include "support.h"

using namespace raptor;

namespace {

FramePtr bytes(size_t n) { return Frame::make(std::string(n, 'x')); }

}  // namespace

TEST_CASE("a new connection", "[connection]") {
  App app = raptor::test::reference_app();
  int handle = 0;
  Connection c(app, "1.2", &handle, 5000);
  CHECK(&c.app() == &app);
  CHECK(c.socket_id() == "1.2");
  CHECK(c.transport_handle() == &handle);
  CHECK_FALSE(c.has_pending());
  CHECK(c.queued_bytes() == 0);
  CHECK_FALSE(c.closing());
  CHECK(c.close_code() == 0);
  CHECK(c.last_seen_ms() == 5000);
  CHECK(c.ping_sent_ms() == 0);
  CHECK(c.subscriptions().empty());
}

TEST_CASE("the queue is FIFO and counts bytes up to the limit", "[connection]") {
  App app = raptor::test::reference_app();
  Connection c(app, "1.2", nullptr, 0);
  CHECK(c.enqueue(Frame::make("first"), 100));
  CHECK(c.enqueue(bytes(55), 100));
  CHECK(c.queued_bytes() == 60);
  CHECK(c.enqueue(bytes(40), 100));  // exactly at the limit is fine
  CHECK(c.queued_bytes() == 100);
  CHECK_FALSE(c.enqueue(bytes(1), 100));  // one byte over is refused
  CHECK(c.queued_bytes() == 100);

  REQUIRE(c.has_pending());
  CHECK(c.front()->text() == "first");
  c.pop_front();
  CHECK(c.queued_bytes() == 95);
  CHECK(c.front()->size() == 55);
  c.pop_front();
  c.pop_front();
  CHECK_FALSE(c.has_pending());
  CHECK(c.queued_bytes() == 0);
  CHECK(c.enqueue(bytes(100), 100));
}

TEST_CASE("one frame larger than the limit still goes into an empty queue", "[connection]") {
  App app = raptor::test::reference_app();
  Connection c(app, "1.2", nullptr, 0);
  CHECK(c.enqueue(bytes(500), 100));
  CHECK(c.queued_bytes() == 500);
  CHECK_FALSE(c.enqueue(bytes(1), 100));
}

TEST_CASE("a shared frame is queued by reference", "[connection]") {
  App app = raptor::test::reference_app();
  Connection a(app, "1.1", nullptr, 0), b(app, "1.2", nullptr, 0);
  FramePtr f = Frame::make("shared");
  a.enqueue(f, 1000);
  b.enqueue(f, 1000);
  CHECK(a.front() == f.get());
  CHECK(b.front() == f.get());
  CHECK(f.use_count() == 3);
}

TEST_CASE("begin_close keeps the first code and optionally discards the queue", "[connection]") {
  App app = raptor::test::reference_app();
  Connection c(app, "1.2", nullptr, 0);
  c.enqueue(Frame::make("pending"), 100);

  SECTION("flush first") {
    c.begin_close(4200, "bye", false);
    CHECK(c.closing());
    CHECK(c.close_code() == 4200);
    CHECK(c.close_reason() == "bye");
    CHECK(c.has_pending());
    CHECK(c.queued_bytes() == 7);
  }
  SECTION("discard") {
    c.begin_close(4100, "slow", true);
    CHECK(c.close_code() == 4100);
    CHECK_FALSE(c.has_pending());
    CHECK(c.queued_bytes() == 0);
  }
  SECTION("a second close changes nothing") {
    c.begin_close(4201, "pong", false);
    c.begin_close(4100, "slow", true);
    CHECK(c.close_code() == 4201);
    CHECK(c.close_reason() == "pong");
    CHECK(c.has_pending());
  }
}

TEST_CASE("liveness: activity clears an outstanding ping", "[connection]") {
  App app = raptor::test::reference_app();
  Connection c(app, "1.2", nullptr, 1000);
  c.ping_sent(2000);
  CHECK(c.ping_sent_ms() == 2000);
  CHECK(c.last_seen_ms() == 1000);
  c.saw_activity(2500);
  CHECK(c.last_seen_ms() == 2500);
  CHECK(c.ping_sent_ms() == 0);
}

TEST_CASE("subscriptions map channel to presence user id and roster version", "[connection]") {
  App app = raptor::test::reference_app();
  Connection c(app, "1.2", nullptr, 0);
  c.subscriptions().add("presence-a", raptor::Subscription{"42", 7});
  c.subscriptions().add("public", raptor::Subscription{});
  CHECK(c.subscribed("presence-a"));
  CHECK(c.subscribed("public"));
  CHECK_FALSE(c.subscribed("other"));
  CHECK(c.subscriptions().find("presence-a")->user_id == "42");
  CHECK(c.subscriptions().find("presence-a")->roster_version == 7);
  CHECK(c.subscriptions().remove("presence-a").user_id == "42");
  CHECK_FALSE(c.subscribed("presence-a"));
  CHECK(c.subscribed("public"));
  CHECK(c.subscriptions().remove("absent").user_id.empty());
  CHECK(c.subscriptions().size() == 1);
}

TEST_CASE("client-event tokens: N per fixed one-second window", "[connection]") {
  App app = raptor::test::reference_app();
  REQUIRE(app.client_events_per_second == 10);
  Connection c(app, "1.2", nullptr, 0);
  const int64_t t0 = 50'000;
  for (int i = 0; i < 10; ++i) {
    INFO("event " << i);
    CHECK(c.take_client_event_token(t0 + i * 10));
  }
  CHECK_FALSE(c.take_client_event_token(t0 + 100));
  CHECK_FALSE(c.take_client_event_token(t0 + 999));
  // A new window one second after the first token.
  CHECK(c.take_client_event_token(t0 + 1000));
  for (int i = 1; i < 10; ++i) CHECK(c.take_client_event_token(t0 + 1500));
  CHECK_FALSE(c.take_client_event_token(t0 + 1999));
  CHECK(c.take_client_event_token(t0 + 2000));
}

TEST_CASE("client-event tokens follow the app's per-second setting", "[connection]") {
  App app = raptor::test::reference_app();
  app.client_events_per_second = 3;
  Connection c(app, "1.2", nullptr, 0);
  CHECK(c.take_client_event_token(10'000));
  CHECK(c.take_client_event_token(10'000));
  CHECK(c.take_client_event_token(10'000));
  CHECK_FALSE(c.take_client_event_token(10'000));
  CHECK(c.take_client_event_token(11'000));
}
