// core/client_event_gate: which client events go out, with what data, and why others do not.
#include "core/client_event_gate.h"

#include "core/verdict_support.h"
#include "protocol/errors.h"
#include "support.h"

using namespace raptor;
using namespace raptor::test;

namespace {

struct Gate {
  App app = reference_app();
  ChannelDirectory directory;
  ClientEventGate gate{directory};
  Connection c{app, "1.1", nullptr, 0};
  std::string_view data;
  std::string rewritten;
  Gate() {
    app.client_events = true;
    c.subscriptions().add("private-a", Subscription{"", 0, false});
  }
  ClientEventVerdict check(const ClientFrame& e, const std::string& channel, int64_t now = 0) {
    return gate.check(c, e.m, channel, now, data, rewritten);
  }
};

void check_refused(const ClientEventVerdict& v, int error_code) {
  CHECK(v.kind == ClientEventVerdict::Kind::Refuse);
  CHECK(v.code == error_code);
  CHECK_FALSE(v.message.empty());
}

}  // namespace

TEST_CASE("client events go out on a subscribed private channel, with {} for no data", "[client_event_gate]") {
  Gate g;
  ClientFrame e(client_event_frame("client-x", "private-a", "{\"n\":1}"));
  ClientEventVerdict v = g.check(e, "private-a");
  REQUIRE(v.kind == ClientEventVerdict::Kind::Send);
  CHECK(v.sub == g.c.subscriptions().find("private-a"));
  CHECK(g.data == "{\"n\":1}");
  ClientFrame bare("{\"event\":\"client-x\",\"channel\":\"private-a\"}");
  REQUIRE(g.check(bare, "private-a").kind == ClientEventVerdict::Kind::Send);
  CHECK(g.data == "{}");
}

TEST_CASE("client events are refused with the reason and Pusher's code", "[client_event_gate]") {
  Gate g;
  ClientFrame e(client_event_frame("client-x", "private-a", "{}"));
  check_refused(g.check(e, "room"), code(ErrorCode::ClientEventRefused));       // public channel
  check_refused(g.check(e, "private-b"), code(ErrorCode::ClientEventRefused));  // not subscribed
  check_refused(g.check(e, "private-*"), code(ErrorCode::ClientEventRefused));  // a pattern
  ClientFrame big(client_event_frame("client-x", "private-a", "\"" + std::string(g.app.max_event_data_bytes, 'x') + "\""));
  check_refused(g.check(big, "private-a"), code(ErrorCode::PayloadTooLarge));
  g.app.client_events = false;
  check_refused(g.check(e, "private-a"), code(ErrorCode::ClientEventRefused));
}

TEST_CASE("client events over the sender's rate are refused with 4301", "[client_event_gate]") {
  Gate g;
  ClientFrame e(client_event_frame("client-x", "private-a", "{}"));
  for (int i = 0; i < g.app.client_events_per_second; ++i)
    REQUIRE(g.check(e, "private-a", 5).kind == ClientEventVerdict::Kind::Send);
  check_refused(g.check(e, "private-a", 5), code(ErrorCode::RateLimited));
  CHECK(g.check(e, "private-a", 1005).kind == ClientEventVerdict::Kind::Send);  // the next second
}

TEST_CASE("the client-event filter may rewrite, drop or deny", "[client_event_gate]") {
  Gate g;
  OneHookPolicy policy(Policy::Hook::FilterClientEvents);
  g.gate.set_policy(&policy);
  ClientFrame e(client_event_frame("client-x", "private-a", "{\"n\":1}"));
  policy.answer.kind = PolicyVerdict::Kind::Rewrite;
  policy.answer.data = "{\"n\":2}";
  REQUIRE(g.check(e, "private-a").kind == ClientEventVerdict::Kind::Send);
  CHECK(g.data == "{\"n\":2}");
  policy.answer.kind = PolicyVerdict::Kind::Drop;
  CHECK(g.check(e, "private-a").kind == ClientEventVerdict::Kind::Drop);
  policy.answer.kind = PolicyVerdict::Kind::Deny;
  policy.answer.reason = "quiet";
  ClientEventVerdict v = g.check(e, "private-a");
  check_refused(v, code(ErrorCode::ClientEventRefused));
  CHECK(v.message == "Client event refused by policy: quiet");
}
