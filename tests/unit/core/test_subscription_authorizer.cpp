// core/subscription_authorizer: the verdict on a subscription (kind rules, signatures, presence
// members, the authorize hook and channel rules) and the checks made before it.
#include "core/subscription_authorizer.h"

#include "core/verdict_support.h"
#include "protocol/errors.h"
#include "support.h"

using namespace raptor;
using namespace raptor::test;

namespace {

void check_refusal(const Authorization& a, const std::string& type, int status, int error_code) {
  REQUIRE(a.refusal);
  CHECK(a.refusal->type == type);
  CHECK(a.refusal->status == status);
  CHECK(a.refusal->code == error_code);
  CHECK_FALSE(a.refusal->message.empty());
}

}  // namespace

TEST_CASE("authorizer: anyone may subscribe to a public channel", "[subscription_authorizer]") {
  App app = reference_app();
  Connection c(app, "1234.5678", nullptr, 0);
  SubscriptionAuthorizer authorizer;
  ClientFrame s(subscribe_frame("room"));
  Authorization a = authorizer.authorize(c, "room", "room", s.m);
  CHECK_FALSE(a.refusal);
  CHECK(a.user_id.empty());
}

TEST_CASE("authorizer: a private channel needs the app's signature of the channel as spelled",
          "[subscription_authorizer]") {
  App app = reference_app();
  Connection c(app, "1234.5678", nullptr, 0);
  SubscriptionAuthorizer authorizer;
  ClientFrame good(subscribe_frame("private-a", channel_auth(app, c.socket_id(), "private-a")));
  CHECK_FALSE(authorizer.authorize(c, "private-a", "private-a", good.m).refusal);
  ClientFrame wrong(subscribe_frame("private-a", channel_auth(app, c.socket_id(), "private-b")));
  check_refusal(authorizer.authorize(c, "private-a", "private-a", wrong.m), "AuthError", 401,
                code(ErrorCode::Unauthorized));
  // Signed by name, subscribed by address: the signature is of the address.
  check_refusal(authorizer.authorize(c, "private-a", "/channels/private/a", good.m), "AuthError", 401,
                code(ErrorCode::Unauthorized));
}

TEST_CASE("authorizer: a presence member comes from signed channel_data, within the app's limits",
          "[subscription_authorizer]") {
  App app = reference_app();
  app.max_user_id_length = 8;
  Connection c(app, "1234.5678", nullptr, 0);
  SubscriptionAuthorizer authorizer;
  std::string data = channel_data("ann", "{\"name\":\"Ann\"}");
  ClientFrame ok(subscribe_frame("presence-r", channel_auth(app, c.socket_id(), "presence-r", data), data));
  Authorization a = authorizer.authorize(c, "presence-r", "presence-r", ok.m);
  REQUIRE_FALSE(a.refusal);
  CHECK(a.user_id == "ann");
  CHECK(a.user_info == "{\"name\":\"Ann\"}");
  CHECK(a.privileged);  // presence- members see the roster by default

  ClientFrame missing(subscribe_frame("presence-r", channel_auth(app, c.socket_id(), "presence-r")));
  check_refusal(authorizer.authorize(c, "presence-r", "presence-r", missing.m), "AuthError", 401,
                code(ErrorCode::Unauthorized));
  std::string long_id = channel_data("a-long-user-id");
  ClientFrame too_long(subscribe_frame("presence-r", channel_auth(app, c.socket_id(), "presence-r", long_id), long_id));
  check_refusal(authorizer.authorize(c, "presence-r", "presence-r", too_long.m), "LimitReached", 403,
                code(ErrorCode::LimitReached));
}

TEST_CASE("authorizer: the authorize hook may deny, allow without a signature, or name the member",
          "[subscription_authorizer]") {
  App app = reference_app();
  Connection c(app, "1234.5678", nullptr, 0);
  OneHookPolicy policy(Policy::Hook::Authorize);
  SubscriptionAuthorizer authorizer;
  authorizer.set_policy(&policy);
  ClientFrame unsigned_private(subscribe_frame("private-a"));
  policy.answer.kind = PolicyVerdict::Kind::Deny;
  policy.answer.reason = "closed";
  ClientFrame pub(subscribe_frame("room"));
  Authorization denied = authorizer.authorize(c, "room", "room", pub.m);
  check_refusal(denied, "AuthError", 403, code(ErrorCode::Unauthorized));
  CHECK(denied.refusal->message == "Subscription refused by policy: closed");

  policy.answer = {};
  policy.answer.kind = PolicyVerdict::Kind::Allow;
  CHECK_FALSE(authorizer.authorize(c, "private-a", "private-a", unsigned_private.m).refusal);

  ClientFrame unsigned_presence(subscribe_frame("presence-r"));
  check_refusal(authorizer.authorize(c, "presence-r", "presence-r", unsigned_presence.m), "AuthError", 403,
                code(ErrorCode::Unauthorized));  // allowed, but as nobody
  policy.answer.user_id = "bob";
  Authorization named = authorizer.authorize(c, "presence-r", "presence-r", unsigned_presence.m);
  REQUIRE_FALSE(named.refusal);
  CHECK(named.user_id == "bob");
  CHECK(named.user_info == "null");
}

TEST_CASE("authorizer: checks before authorization refuse bad names, patterns and limits",
          "[subscription_authorizer]") {
  App app = reference_app();
  Connection c(app, "1234.5678", nullptr, 0);
  CHECK_FALSE(SubscriptionAuthorizer::invalid_name("room-1"));
  REQUIRE(SubscriptionAuthorizer::invalid_name("room 1"));
  CHECK(SubscriptionAuthorizer::invalid_name("room 1")->code == code(ErrorCode::InvalidChannel));
  CHECK_FALSE(SubscriptionAuthorizer::pattern_refusal(c, "rooms.*", true));
  auto presence = SubscriptionAuthorizer::pattern_refusal(c, "presence-*", true);
  REQUIRE(presence);
  CHECK(presence->type == "InvalidChannel");
  CHECK(SubscriptionAuthorizer::over_rate(5).status == 429);
  CHECK(SubscriptionAuthorizer::over_count(3).message.find("at most 3") != std::string::npos);
}
