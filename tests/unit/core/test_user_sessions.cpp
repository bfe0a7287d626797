// core/user_sessions: pusher:signin, a user's own #server-to-user- channel, a user's events and
// termination reaching the connections signed in as that user, the cluster told which users the
// worker holds.
#include "core/user_sessions.h"

#include "protocol/errors.h"
#include "protocol/messages.h"
#include "support.h"

using namespace raptor;
using namespace raptor::test;

namespace {

// What the part asks of the cluster, as "watch user ann".
struct UserWatchLog : QuietBus {
  std::vector<std::string> calls;
  void watch_user(const App&, const std::string& user) override { calls.push_back("watch user " + user); }
  void unwatch_user(const App&, const std::string& user) override { calls.push_back("unwatch user " + user); }
};

// One worker alone; its user deliveries reach the part through the router.
struct Users {
  App app = reference_app();
  Hub hub{1};
  RecordingTransport transport;
  ConnectionTable connections;
  Sender sender{transport, 1 << 20};
  ChannelTable channels;
  FanOut fan_out{channels, connections, sender};
  EventRouter router{hub, 0, fan_out, connections, [this](const Delivery& d) { users.deliver(d); }};
  UserSessions users{hub, 0, sender, router};

  Connection& connect() { return *connections.add(app, nullptr, 0); }
  std::vector<std::string> sign_in(Connection& c, const std::string& id) {
    messages::ClientMessage m;
    std::string text = signin_frame(app, c.socket_id(), user_data(id));
    REQUIRE(messages::parse_client_message(text, m));
    users.signin(c, m);
    return drain(c);
  }
};

const std::string kEvent = "{\"event\":\"e\",\"channel\":\"#server-to-user-ann\",\"data\":\"{}\"}";

}  // namespace

TEST_CASE("user sessions sign a connection in once, and refuse a second user on it", "[user_sessions]") {
  Users u;
  UserWatchLog bus;
  u.users.set_cluster(&bus);
  Connection& c = u.connect();
  CHECK(events_of(u.sign_in(c, "ann")) == std::vector<std::string>{"pusher:signin_success"});
  REQUIRE(c.user() != nullptr);
  CHECK(c.user()->id == "ann");
  CHECK(events_of(u.sign_in(c, "ann")) == std::vector<std::string>{"pusher:signin_success"});
  require_error(u.sign_in(c, "bob").at(0), code(ErrorCode::SigninConflict));
  u.users.sign_out(c);
  CHECK(bus.calls == std::vector<std::string>{"watch user ann", "unwatch user ann"});
}

TEST_CASE("user sessions acknowledge only the signed-in user's own channel", "[user_sessions]") {
  Users u;
  Connection& c = u.connect();
  CHECK(u.users.subscribe_user_channel(c, "#server-to-user-ann").has_value());  // not signed in
  u.sign_in(c, "ann");
  CHECK(u.users.subscribe_user_channel(c, "#server-to-user-bob").has_value());
  CHECK_FALSE(u.users.subscribe_user_channel(c, "#server-to-user-ann").has_value());
  CHECK(events_of(drain(c)) == std::vector<std::string>{"pusher_internal:subscription_succeeded"});
}

TEST_CASE("user sessions deliver a user's events to its connections and terminate them", "[user_sessions]") {
  Users u;
  Connection& a = u.connect();
  Connection& b = u.connect();
  Connection& other = u.connect();
  u.sign_in(a, "ann");
  u.sign_in(b, "ann");
  u.sign_in(other, "bob");
  u.router.dispatch(EventRouter::delivery(Delivery::Kind::UserEvent, u.app, "ann", kEvent, b.socket_id()));
  CHECK(drain(a) == std::vector<std::string>{kEvent});
  CHECK(drain(b).empty());
  CHECK(drain(other).empty());
  u.users.terminate(u.app, "ann");
  CHECK(a.close_code() == int(CloseCode::Unauthorized));
  CHECK(b.close_code() == int(CloseCode::Unauthorized));
  CHECK_FALSE(other.closing());
}
