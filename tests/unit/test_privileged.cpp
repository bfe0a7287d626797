// Privileged channels in core: who sees the roster and member events, who may send client
// events, where privilege comes from and in which order (core/presence_roster.h), and the
// channel rules as the engine applies them (a fake Policy stands in for raptor.rb).
#include <functional>

#include "core/presence_roster.h"
#include "protocol/errors.h"
#include "support.h"

using namespace raptor;
using namespace raptor::test;

namespace {

constexpr int kNotPrivileged = static_cast<int>(ErrorCode::NotPrivileged);

// {"user_id":ID,"user_info":{},"privileged":P} with P as given (JSON text).
std::string privileged_data(const std::string& id, const std::string& privileged_json = "true") {
  return "{\"user_id\":\"" + id + "\",\"user_info\":{},\"privileged\":" + privileged_json + "}";
}

// The ids of the roster a subscription_succeeded frame carries.
std::vector<std::string> roster_ids(const std::string& frame) {
  auto f = parse_frame(frame);
  REQUIRE(f.event == "pusher_internal:subscription_succeeded");
  REQUIRE(f.inner);
  std::vector<std::string> ids;
  const cJSON* id = nullptr;
  cJSON_ArrayForEach(id, member(member(f.inner.get(), "presence"), "ids")) ids.emplace_back(id->valuestring);
  return ids;
}

// A Policy whose channel rules are a function; it has no other hook.
class RulesPolicy : public test::PassingPolicy {
 public:
  std::function<PolicyVerdict(const PermissionRequest&)> rules;
  std::vector<Permission> asked;

  bool has(const App&, Hook hook) const override { return hook == Hook::ChannelRules; }
  PolicyVerdict permit(const PermissionRequest& r) override {
    asked.push_back(r.permission);
    return rules(r);
  }
};

PolicyVerdict verdict(PolicyVerdict::Kind kind, std::string reason = {}) {
  PolicyVerdict v;
  v.kind = kind;
  v.reason = std::move(reason);
  return v;
}

}  // namespace

TEST_CASE("privilege: the policy, else the signed channel_data, else the channel type", "[privileged]") {
  CHECK(member_privileged("presence-room", std::nullopt, std::nullopt));
  CHECK_FALSE(member_privileged("presence-privileged-room", std::nullopt, std::nullopt));
  CHECK(member_privileged("presence-privileged-room", std::nullopt, true));
  CHECK_FALSE(member_privileged("presence-room", std::nullopt, false));
  CHECK_FALSE(member_privileged("presence-privileged-room", false, true));
  CHECK(member_privileged("presence-privileged-room", true, false));
}

TEST_CASE("a roster as a subscription sees it: everyone, or its own member alone", "[privileged][presence_roster]") {
  PresenceRoster r;
  r.add("b", "{\"name\":\"B\"}");
  r.add("a", "null");
  CHECK(r.to_json_for("a", true) == r.to_json());
  CHECK(r.to_json_for("b", false) == "{\"presence\":{\"ids\":[\"b\"],\"hash\":{\"b\":{\"name\":\"B\"}},\"count\":1}}");
  CHECK(r.to_json_for("a", false) == "{\"presence\":{\"ids\":[\"a\"],\"hash\":{\"a\":null},\"count\":1}}");
  CHECK(r.to_json_for("nobody", false) == PresenceRoster().to_json());
  CHECK(r.user_info("b") == std::optional<std::string>("{\"name\":\"B\"}"));
  CHECK_FALSE(r.user_info("nobody"));
}

TEST_CASE("a privileged channel: the roster and member events reach privileged subscriptions only",
          "[engine][privileged]") {
  EngineHarness h;
  const std::string ch = "presence-privileged-gallery.1";
  Connection& visitor = h.connect();
  Connection& owner = h.connect();
  Connection& late = h.connect();
  h.join_ok(visitor, ch, channel_data("v"));
  auto owner_frames = h.join(owner, ch, privileged_data("o"));
  REQUIRE(owner_frames.size() == 1);
  CHECK(roster_ids(owner_frames[0]) == std::vector<std::string>{"o", "v"});
  CHECK(drain(visitor).empty());  // no member_added for the owner

  auto late_frames = h.join(late, ch, channel_data("late"));
  REQUIRE(late_frames.size() == 1);
  CHECK(roster_ids(late_frames[0]) == std::vector<std::string>{"late"});
  CHECK(events_of(drain(owner)) == std::vector<std::string>{"pusher_internal:member_added"});
  CHECK(drain(visitor).empty());

  // Subscribing again gives the roster as that subscription sees it.
  auto again = h.join(visitor, ch, channel_data("v"));
  REQUIRE(again.size() == 1);
  CHECK(roster_ids(again[0]) == std::vector<std::string>{"v"});

  h.engine.on_closed(&late);
  CHECK(events_of(drain(owner)) == std::vector<std::string>{"pusher_internal:member_removed"});
  CHECK(drain(visitor).empty());
  // The app side still counts everyone.
  CHECK(h.engine.directory().users(h.app(), ch) == std::optional<std::string>("[{\"id\":\"o\"},{\"id\":\"v\"}]"));
}

TEST_CASE("a privileged channel: client events from members who are not privileged get 4310",
          "[engine][privileged][client_event]") {
  EngineHarness h;
  const std::string ch = "presence-privileged-talk";
  Connection& owner = h.connect();
  Connection& visitor = h.connect();
  h.join_ok(owner, ch, privileged_data("o"));
  h.join_ok(visitor, ch, channel_data("v"));
  drain(owner);

  h.send(visitor, client_event_frame("client-x", ch, "{}"));
  auto refused = drain(visitor);
  REQUIRE(refused.size() == 1);
  require_error(refused[0], kNotPrivileged);
  CHECK(drain(owner).empty());

  h.send(owner, client_event_frame("client-x", ch, "{\"hi\":1}"));
  CHECK(events_of(drain(visitor)) == std::vector<std::string>{"client-x"});
}

TEST_CASE("a privileged channel: only a boolean \"privileged\" in the signed channel_data counts",
          "[engine][privileged]") {
  EngineHarness h;
  const std::string ch = "presence-privileged-strict";
  Connection& first = h.connect();
  h.join_ok(first, ch, channel_data("first"));
  for (const char* not_boolean : {"\"true\"", "1", "null", "false"}) {
    Connection& c = h.connect();
    auto frames = h.join(c, ch, privileged_data("p", not_boolean));
    INFO("privileged: " << not_boolean);
    REQUIRE(frames.size() == 1);
    CHECK(roster_ids(frames[0]) == std::vector<std::string>{"p"});
  }
}

TEST_CASE("channel rules: subscribe refuses with 403, roster decides privilege, client_events refuses with 4306",
          "[engine][privileged][channel_rules]") {
  EngineHarness h;
  RulesPolicy policy;
  h.engine.set_policy(&policy);
  using Kind = PolicyVerdict::Kind;
  policy.rules = [](const PermissionRequest& r) {
    switch (r.permission) {
      case Permission::Subscribe:
        return r.channel == "closed" ? verdict(Kind::Deny, "closed here") : verdict(Kind::Pass);
      case Permission::Roster:
        // Hosts are privileged; others keep what they had (pass).
        return r.user_id == "host" ? verdict(Kind::Allow) : r.user_id == "demoted" ? verdict(Kind::Deny) : verdict(Kind::Pass);
      case Permission::ClientEvents:
        return r.event == "client-shout" ? verdict(Kind::Deny, "no shouting") : verdict(Kind::Pass);
    }
    return verdict(Kind::Pass);
  };

  Connection& c = h.connect();
  require_refused(h.join(c, "closed"), "closed", "AuthError", 403, static_cast<int>(ErrorCode::Unauthorized));
  h.join_ok(c, "open");

  const std::string ch = "presence-privileged-party";
  Connection& host = h.connect();
  Connection& demoted = h.connect();
  Connection& guest = h.connect();
  h.join_ok(guest, ch, channel_data("guest"));
  auto host_frames = h.join(host, ch, channel_data("host"));
  CHECK(roster_ids(host_frames[0]) == std::vector<std::string>{"guest", "host"});
  auto demoted_frames = h.join(demoted, ch, privileged_data("demoted"));  // signed privileged, rule says no
  CHECK(roster_ids(demoted_frames[0]) == std::vector<std::string>{"demoted"});

  drain(host);
  h.send(host, client_event_frame("client-shout", ch, "{}"));
  auto refused = drain(host);
  REQUIRE(refused.size() == 1);
  require_error(refused[0], static_cast<int>(ErrorCode::ClientEventRefused));
  CHECK(string_of(parse_frame(refused[0]).data, "message") == "Client event refused by policy: no shouting");
  h.send(host, client_event_frame("client-talk", ch, "{}"));
  CHECK(events_of(drain(guest)) == std::vector<std::string>{"client-talk"});

  // A member who is not privileged is refused before the rules are asked.
  policy.asked.clear();
  h.send(guest, client_event_frame("client-talk", ch, "{}"));
  require_error(drain(guest).at(0), kNotPrivileged);
  CHECK(policy.asked.empty());
}
