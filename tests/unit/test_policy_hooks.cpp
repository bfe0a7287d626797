// core/policy_hooks.h, the table of hooks, and what reads it: whether the engine reads and keeps
// handshakes (once a hand-kept list that left channel rules out), the DSL methods of raptor.rb,
// the request objects' readers (script/hook_request.cpp) and the answers accepted.
#include "core/policy_hooks.h"

#include <memory>
#include <set>
#include <string>

#include "common/text.h"
#include "script/ruby_policy.h"
#include "support.h"

using namespace raptor;
using namespace raptor::test;
using raptor::script::RubyPolicy;
using raptor::script::Vm;
using Kind = PolicyVerdict::Kind;

namespace {

// A policy that has exactly the hooks given.
struct HooksPolicy : PassingPolicy {
  std::set<Hook> hooks;
  bool has(const App&, Hook hook) const override { return hooks.count(hook) > 0; }
};

std::unique_ptr<RubyPolicy> policy_of(const std::string& source) {
  auto vm = std::make_unique<Vm>();
  std::string error;
  bool loaded = vm->load_source(source, "raptor.rb", error);
  INFO(error);
  REQUIRE(loaded);
  return std::make_unique<RubyPolicy>(std::move(vm));
}

std::unique_ptr<Handshake> browser() {
  auto h = std::make_unique<Handshake>();
  h->path = "/app/key?protocol=7&plan=pro";
  h->origin = "https://example.com";
  h->remote_address = "203.0.113.7";
  h->params = {{"protocol", "7"}, {"plan", "pro"}};
  h->headers = {{"origin", "https://example.com"}};
  return h;
}

}  // namespace

TEST_CASE("every hook and channel-rule permission has one row, under its own name", "[policy_hooks]") {
  std::set<std::string_view> names;
  for (const HookSpec& h : kHooks) CHECK(names.insert(h.name).second);
  for (auto hook : {Policy::Hook::Admit, Policy::Hook::Authorize, Policy::Hook::FilterClientEvents,
                    Policy::Hook::ChannelRules, Policy::Hook::ShapeWebhook})
    CHECK(hook_spec(hook).hook == hook);
  for (auto p : {Permission::Subscribe, Permission::ClientEvents, Permission::Roster}) CHECK(hook_spec(p).permission == p);
}

TEST_CASE("the handshake is read and kept for every hook whose request reads it, channel rules too",
          "[policy_hooks][engine]") {
  EngineHarness h;
  HooksPolicy policy;
  const App& app = h.app();
  h.engine.set_policy(&policy);
  CHECK_FALSE(h.engine.wants_handshake());

  policy.hooks = {Policy::Hook::ShapeWebhook};  // reads webhook events only
  h.engine.set_policy(&policy);
  CHECK_FALSE(h.engine.wants_handshake());

  policy.hooks = {Policy::Hook::Admit};  // reads it to admit, not later
  h.engine.set_policy(&policy);
  CHECK(h.engine.wants_handshake());
  CHECK(h.engine.open(app, nullptr, browser())->handshake() == nullptr);

  policy.hooks = {Policy::Hook::ChannelRules};  // a raptor.rb with channel rules alone
  h.engine.set_policy(&policy);
  CHECK(h.engine.wants_handshake());
  const Handshake* kept = h.engine.open(app, nullptr, browser())->handshake();
  REQUIRE(kept != nullptr);
  CHECK(kept->origin == "https://example.com");
}

TEST_CASE("raptor.rb has a method per hook of the table, and Policy::has reports it", "[policy_hooks][script]") {
  auto p = policy_of(R"(
app "a", key: "k", secret: "s" do |a|
  a.admit { pass }
  a.channel("room.*") { |r| r.roster { pass } }
end
authorize { pass }
filter_client_events { pass }
shape_webhook { pass }
channel("x.*") do
  subscribe { pass }
  client_events { pass }
end
)");
  App a{"a", "k", "s"}, other{"b", "k2", "s"};
  for (auto hook : {Policy::Hook::Admit, Policy::Hook::Authorize, Policy::Hook::FilterClientEvents,
                    Policy::Hook::ChannelRules, Policy::Hook::ShapeWebhook})
    CHECK(p->has(a, hook));
  CHECK_FALSE(p->has(other, Policy::Hook::Admit));
  CHECK(p->has(other, Policy::Hook::ChannelRules));  // the top-level rules
  CHECK(p->hook_names("b") == std::vector<std::string>{"authorize", "filter_client_events", "shape_webhook",
                                                       "subscribe", "client_events"});
}

TEST_CASE("a request has the readers of its row, each read from C++ when asked", "[policy_hooks][script]") {
  // Each hook answers with the names of the readers its request lacks, as a deny reason.
  auto p = policy_of(R"(
def missing(request, fields)
  gone = fields.reject { |f| request.respond_to?(f) }
  gone.empty? ? pass : deny(gone.join(" "))
end
ROWS = Raptor::HOOK_TABLE.map { |row| [row[0], row[3]] }.to_h
admit { |c| missing(c, ROWS[:admit]) }
authorize do |s|
  next deny("read: #{s.origin} #{s.params["plan"]} #{s.channel_data.inspect}") if s.channel == "show"
  next deny([s.presence?, s.private?, s.public?].join(" ")) if s.channel.include?("kind")
  missing(s, ROWS[:authorize])
end
filter_client_events { |e| missing(e, ROWS[:filter_client_events]) }
)");
  App app{"a", "k", "s"};
  auto h = browser();
  std::string socket = "1.2";
  CHECK(p->admit(app, *h).kind == Kind::Pass);
  CHECK(p->authorize({app, socket, h.get(), "news", false, {}}).kind == Kind::Pass);
  CHECK(p->filter_client_event({app, socket, h.get(), "private-a", "client-x", "{}", ""}).kind == Kind::Pass);
  PolicyVerdict shown = p->authorize({app, socket, h.get(), "show", true, R"({"user_id":"u"})"});
  CHECK(shown.reason == R"(read: https://example.com pro {"user_id"=>"u"})");
  auto kind = [&](std::string_view channel) { return p->authorize({app, socket, nullptr, channel, false, {}}).reason; };
  CHECK(kind("kind") == "false false true");
  CHECK(kind("private-kind") == "false true false");
  CHECK(kind("private-encrypted-kind") == "false true false");
  CHECK(kind("presence-privileged-kind") == "true false false");
  for (const HookSpec& row : kHooks)
    for (std::string_view field : split_at(row.fields, ' ')) CHECK_FALSE(field.empty());
}

TEST_CASE("authorize's member comes from the signed channel_data, and a request kept past its call raises",
          "[policy_hooks][script]") {
  auto p = policy_of(R"(
KEPT = []
authorize do |s|
  KEPT << s
  deny([s.user_id.inspect, s.user_info.inspect, s.privileged?].join(" "))
end
filter_client_events do |e|
  begin
    KEPT.first.socket_id
    deny("read a closed request")
  rescue RuntimeError => err
    deny(err.message)
  end
end
)");
  App app{"a", "k", "s"};
  std::string socket = "1.2";
  std::string data = R"({"user_id":42,"user_info":{"n":1},"privileged":true})";
  CHECK(p->authorize({app, socket, nullptr, "presence-a", true, data}).reason == R"("42" {"n"=>1} true)");
  CHECK(p->authorize({app, socket, nullptr, "presence-a", false, data}).reason == "nil nil false");
  CHECK(p->filter_client_event({app, socket, nullptr, "private-a", "client-x", "{}", ""}).reason ==
        "socket_id was not read during its hook call, and cannot be now");
}
