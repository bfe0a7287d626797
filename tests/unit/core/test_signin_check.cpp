// core/signin_check: which pusher:signin messages sign a connection in, and what the others are told.
#include "core/signin_check.h"

#include "core/verdict_support.h"
#include "protocol/errors.h"
#include "support.h"

using namespace raptor;
using namespace raptor::test;

TEST_CASE("sign-in: a signed user_data signs in as its user", "[signin_check]") {
  App app = reference_app();
  Connection c(app, "1234.5678", nullptr, 0);
  ClientFrame f(signin_frame(app, c.socket_id(), user_data("ann", {"bob"})));
  UserData user;
  CHECK_FALSE(signin_refusal(c, f.m, user));
  CHECK(user.id == "ann");
  CHECK(user.watchlist == std::vector<std::string>{"bob"});
}

TEST_CASE("sign-in: refused without its fields, with another connection's signature, or bad user_data",
          "[signin_check]") {
  App app = reference_app();
  Connection c(app, "1234.5678", nullptr, 0);
  UserData user;
  auto refusal_code = [&](const std::string& frame) {
    ClientFrame f(frame);
    auto r = signin_refusal(c, f.m, user);
    REQUIRE(r);
    CHECK_FALSE(r->message.empty());
    return r->code;
  };
  CHECK(refusal_code("{\"event\":\"pusher:signin\",\"data\":{\"auth\":\"k:s\"}}") == code(ErrorCode::InvalidMessage));
  CHECK(refusal_code(signin_frame(app, "1.1", user_data("ann"))) == code(ErrorCode::Unauthorized));
  CHECK(refusal_code(signin_frame(app, c.socket_id(), "{\"name\":\"no id\"}")) == code(ErrorCode::InvalidUserData));
}
