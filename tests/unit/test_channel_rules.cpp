// script/RubyPolicy's channel rules (mrblib/channels.rb): which rules a channel matches (exact
// names, `*`, `**`), in which order they are asked (the app's, then the top-level ones; the first
// answer that is not pass decides), what they are handed, and authorize's privileged: answer.
#include <memory>
#include <string>

#include <catch2/catch.hpp>

#include "script/ruby_policy.h"

using namespace raptor;
using raptor::script::RubyPolicy;
using raptor::script::Vm;
using Kind = PolicyVerdict::Kind;

namespace {

std::unique_ptr<RubyPolicy> policy_of(const std::string& source) {
  auto vm = std::make_unique<Vm>();
  std::string error;
  INFO(error);
  REQUIRE(vm->load_source(source, "raptor.rb", error));
  return std::make_unique<RubyPolicy>(std::move(vm));
}

const std::string kSocket = "1.1";

PolicyVerdict ask(RubyPolicy& p, const App& app, Permission permission, std::string_view channel,
                  std::string_view user_info = {}, std::string_view event = {}) {
  PermissionRequest r{permission, app, kSocket, nullptr, channel};
  r.user_id = user_info.empty() ? "" : "u1";
  r.user_info = user_info;
  r.event = event;
  r.data = "{}";
  return p.permit(r);
}

}  // namespace

TEST_CASE("channel rules match exact names, * and ** patterns, and only their own permissions",
          "[script][channel_rules]") {
  App app{"a", "k", "s"};
  auto p = policy_of(R"(
app "a", key: "k", secret: "s" do |a|
  a.channel("news") { subscribe { deny("exact") } }
  a.channel("news.*") { subscribe { deny("one") } }
  a.channel("private-g.**") { client_events { |e| deny("rest #{e.event}") } }
end
)");
  CHECK(p->has(app, Policy::Hook::ChannelRules));
  CHECK_FALSE(p->has(app, Policy::Hook::Authorize));
  CHECK(ask(*p, app, Permission::Subscribe, "news").reason == "exact");
  CHECK(ask(*p, app, Permission::Subscribe, "news.uk").reason == "one");
  CHECK(ask(*p, app, Permission::Subscribe, "news.uk.london").kind == Kind::Pass);
  CHECK(ask(*p, app, Permission::Subscribe, "private-news.uk").kind == Kind::Pass);  // another type
  CHECK(ask(*p, app, Permission::ClientEvents, "news.uk").kind == Kind::Pass);       // not stated
  CHECK(ask(*p, app, Permission::ClientEvents, "private-g.1.2", {}, "client-x").reason == "rest client-x");
  CHECK(ask(*p, app, Permission::Subscribe, "private-g.1").kind == Kind::Pass);
}

TEST_CASE("channel rules: the app's first, then the top level, and the first answer that is not pass decides",
          "[script][channel_rules]") {
  App a{"a", "k", "s"}, b{"b", "k2", "s"};
  auto p = policy_of(R"(
app "a", key: "k", secret: "s" do |a|
  a.channel("presence-r.*") { roster { |m| m.user_info["host"] ? true : pass } }
  a.channel("presence-r.1") { roster { |m| m.user_info["guest"] ? false : pass } }
end
app "b", key: "k2", secret: "s"
channel("presence-r.**") { roster { |m| m.privileged? || deny } }
)");
  CHECK(ask(*p, a, Permission::Roster, "presence-r.1", R"({"host":true,"guest":true})").kind == Kind::Allow);
  CHECK(ask(*p, a, Permission::Roster, "presence-r.1", R"({"guest":true})").kind == Kind::Deny);
  CHECK(ask(*p, a, Permission::Roster, "presence-r.1", R"({})").kind == Kind::Deny);  // the top-level rule
  CHECK(ask(*p, b, Permission::Roster, "presence-r.1", R"({"host":true})").kind == Kind::Deny);  // only the top level
  PermissionRequest privileged{Permission::Roster, b, kSocket, nullptr, "presence-r.9"};
  privileged.privileged = true;
  CHECK(p->permit(privileged).kind == Kind::Allow);
  CHECK(p->has(b, Policy::Hook::ChannelRules));
}

TEST_CASE("channel rules: an unexpected answer or an exception refuses", "[script][channel_rules]") {
  App app{"a", "k", "s"};
  auto p = policy_of(R"(
channel("x.*") { subscribe { |s| s.channel == "x.1" ? 42 : raise("boom") } }
)");
  PolicyVerdict number = ask(*p, app, Permission::Subscribe, "x.1");
  CHECK(number.kind == Kind::Deny);
  CHECK(number.failed);
  CHECK(ask(*p, app, Permission::Subscribe, "x.2").failed);
}

TEST_CASE("authorize's allow(privileged:) reaches the verdict, and a non-boolean is an error",
          "[script][channel_rules]") {
  App app{"a", "k", "s"};
  auto p = policy_of(R"(
authorize do |s|
  case s.channel
  when "presence-up" then allow(privileged: true)
  when "presence-down" then { "user_id" => "7", "privileged" => false }
  when "presence-bad" then allow(privileged: "yes")
  else pass
  end
end
)");
  auto authorize = [&](std::string_view channel) {
    return p->authorize({app, kSocket, nullptr, channel, true, R"({"user_id":"7"})"});
  };
  CHECK(authorize("presence-up").privileged == std::optional<bool>(true));
  PolicyVerdict down = authorize("presence-down");
  CHECK(down.kind == Kind::Allow);
  CHECK(down.user_id == std::optional<std::string>("7"));
  CHECK(down.privileged == std::optional<bool>(false));
  CHECK(authorize("presence-bad").failed);
  CHECK_FALSE(authorize("presence-other").privileged);
  CHECK_FALSE(p->has(app, Policy::Hook::ChannelRules));
}
