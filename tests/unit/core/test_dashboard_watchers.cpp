// core/dashboard_watchers through the engine: #raptor-dashboard opens to the admin token's
// signature only, is not an app's channel, and hears send_to_dashboard until its watcher
// unsubscribes or closes.
#include "core/dashboard_watchers.h"

#include "protocol/admin_token.h"
#include "protocol/errors.h"
#include "support.h"

using namespace raptor;
using namespace raptor::test;

namespace {

constexpr const char* kToken = "unit-admin-token-0123456789";

// Sets the admin token for one test and clears it after.
struct WithAdminToken {
  explicit WithAdminToken(std::string token = kToken) { set_admin_token(std::move(token)); }
  ~WithAdminToken() { set_admin_token(""); }
};

std::string admin_auth(const Connection& c) {
  return operator_channel_auth(c.app().key, c.socket_id(), std::string(kDashboardChannel));
}

}  // namespace

TEST_CASE("dashboard: #raptor-dashboard opens to the admin token's signature, and hears what is sent to it",
          "[dashboard_watchers]") {
  WithAdminToken token;
  EngineHarness h;
  Connection& watcher = h.connect();
  Connection& other = h.connect();
  h.join(other, "room");
  CHECK_FALSE(h.engine.dashboard_watched());
  h.send(watcher, subscribe_frame(std::string(kDashboardChannel), admin_auth(watcher)));
  auto frames = drain(watcher);
  REQUIRE(frames.size() == 1);
  CHECK(parse_frame(frames[0]).event == "pusher_internal:subscription_succeeded");
  CHECK(h.engine.dashboard_watched());
  CHECK_FALSE(h.engine.directory().snapshot(watcher.app(), std::string(kDashboardChannel)).occupied);

  h.engine.send_to_dashboard("overview", "{\"apps\":[]}");
  frames = drain(watcher);
  REQUIRE(frames.size() == 1);
  auto f = parse_frame(frames[0]);
  CHECK(f.event == "overview");
  CHECK(f.channel.value_or("") == kDashboardChannel);
  CHECK(drain(other).empty());

  h.send(watcher, unsubscribe_frame(std::string(kDashboardChannel)));
  CHECK_FALSE(h.engine.dashboard_watched());
  h.engine.send_to_dashboard("overview", "{}");
  CHECK(drain(watcher).empty());
}

TEST_CASE("dashboard: a watcher that closes is forgotten", "[dashboard_watchers]") {
  WithAdminToken token;
  EngineHarness h;
  Connection& watcher = h.connect();
  h.send(watcher, subscribe_frame(std::string(kDashboardChannel), admin_auth(watcher)));
  REQUIRE(h.engine.dashboard_watched());
  h.engine.on_closed(&watcher);
  CHECK_FALSE(h.engine.dashboard_watched());
}

TEST_CASE("dashboard: the app's signature, another socket's, none, or no token configured are refused",
          "[dashboard_watchers]") {
  std::string channel(kDashboardChannel);
  int unauthorized = code(ErrorCode::Unauthorized);
  {
    WithAdminToken token;
    EngineHarness h;
    Connection& c = h.connect();
    h.send(c, subscribe_frame(channel, channel_auth(c.app(), c.socket_id(), channel)));
    require_refused(drain(c), channel, "AuthError", 401, unauthorized);
    h.send(c, subscribe_frame(channel, operator_channel_auth(c.app().key, "1.2", channel)));
    require_refused(drain(c), channel, "AuthError", 401, unauthorized);
    h.send(c, subscribe_frame(channel, std::nullopt));
    require_refused(drain(c), channel, "AuthError", 401, unauthorized);
    CHECK_FALSE(h.engine.dashboard_watched());
  }
  EngineHarness h;  // no token: nothing opens it, whatever is sent
  Connection& c = h.connect();
  CHECK(operator_channel_auth(c.app().key, c.socket_id(), channel).empty());
  h.send(c, subscribe_frame(channel, c.app().key + ":"));
  require_refused(drain(c), channel, "AuthError", 401, unauthorized);
}

TEST_CASE("dashboard: other #raptor- names are no channel", "[dashboard_watchers]") {
  WithAdminToken token;
  EngineHarness h;
  Connection& c = h.connect();
  const std::string name = "#raptor-other";
  h.send(c, subscribe_frame(name, operator_channel_auth(c.app().key, c.socket_id(), name)));
  require_refused(drain(c), name, "InvalidChannel", 404, code(ErrorCode::InvalidChannel));
  CHECK(channel_kind(name).patterns == Patterns::None);
  CHECK(channel_kind(name).client_events == ClientEvents::Nobody);
}
