// script/RubyPolicy's shape_webhook hook: what the hook is handed (a Hash-like event), what its
// answers become (pass, drop, a rewritten event), and a failing hook, which leaves the event as
// it was; which apps have the hook.
#include "script/ruby_policy.h"

#include "support.h"

using namespace raptor;
using namespace raptor::script;
using namespace raptor::test;

namespace {

std::unique_ptr<RubyPolicy> policy_of(const std::string& source) {
  VmLimits limits;
  limits.hook_budget_ms = 50;
  auto vm = std::make_unique<Vm>(limits);
  std::string error;
  INFO(error);
  REQUIRE(vm->load_source(source, "shape.rb", error));
  return std::make_unique<RubyPolicy>(std::move(vm));
}

const std::string kMemberAdded = R"({"name":"member_added","channel":"presence-room","user_id":"42"})";
const std::string kClientEvent =
    R"({"name":"client_event","channel":"private-chat","event":"client-typing","data":"{\"on\":true}","socket_id":"1.2"})";

PolicyVerdict shape(RubyPolicy& p, const App& app, const std::string& event) { return p.shape_webhook({app, event}); }

}  // namespace

TEST_CASE("shape_webhook: the event reads like a Hash, and answers pass, drop or rewrite it", "[script][shaping]") {
  App app = reference_app("shop");
  auto p = policy_of(R"(
NAMES = { "42" => "Ada" }
shape_webhook do |event|
  case event.name
  when "member_added"
    event["user_name"] = NAMES[event.user_id]           # enrich, in place
    event
  when "client_event"
    next drop if event.event == "client-typing"
    { name: "message", channel: event[:channel], text: JSON.parse(event.data)["text"], app: event.app_id }
  when "channel_occupied" then true
  when "channel_vacated" then nil
  else pass
  end
end
)");
  CHECK(p->has(app, Policy::Hook::ShapeWebhook));
  CHECK_FALSE(p->has(app, Policy::Hook::Authorize));

  PolicyVerdict v = shape(*p, app, kMemberAdded);
  CHECK(v.kind == PolicyVerdict::Kind::Rewrite);
  CHECK(v.data == R"({"name":"member_added","channel":"presence-room","user_id":"42","user_name":"Ada"})");

  CHECK(shape(*p, app, kClientEvent).kind == PolicyVerdict::Kind::Drop);
  std::string message =
      R"({"name":"client_event","channel":"private-chat","event":"client-message","data":"{\"text\":\"hi\"}","socket_id":"1.2"})";
  v = shape(*p, app, message);
  CHECK(v.kind == PolicyVerdict::Kind::Rewrite);
  CHECK(v.data == R"({"name":"message","channel":"private-chat","text":"hi","app":"shop"})");

  CHECK(shape(*p, app, R"({"name":"channel_occupied","channel":"a"})").kind == PolicyVerdict::Kind::Allow);
  CHECK(shape(*p, app, R"({"name":"channel_vacated","channel":"a"})").kind == PolicyVerdict::Kind::Deny);
  CHECK(shape(*p, app, R"({"name":"cache_miss","channel":"cache-a"})").kind == PolicyVerdict::Kind::Pass);
}

TEST_CASE("shape_webhook: a hook that fails leaves the event as it was", "[script][shaping]") {
  App app = reference_app("shop");
  auto p = policy_of(R"(
shape_webhook do |event|
  case event.channel
  when "boom" then raise "no user directory"
  when "spin" then loop { }
  when "nameless" then { channel: "x" }
  when "number" then 42
  else pass
  end
end
)");
  for (const char* channel : {"boom", "spin", "nameless", "number"}) {
    INFO(channel);
    PolicyVerdict v = shape(*p, app, std::string(R"({"name":"channel_occupied","channel":")") + channel + "\"}");
    CHECK(v.failed);
    CHECK(v.kind == PolicyVerdict::Kind::Pass);  // sent unchanged
  }
  CHECK_FALSE(shape(*p, app, R"({"name":"channel_occupied","channel":"fine"})").failed);
}

TEST_CASE("shape_webhook: per app, else the top-level hook", "[script][shaping]") {
  App a = reference_app("a"), b = reference_app("b"), c = reference_app("c");
  auto p = policy_of(R"(
app "a", key: "ka", secret: "s" do |app|
  app.shape_webhook { |event| drop }
end
app "b", key: "kb", secret: "s"
shape_webhook { |event| event.merge!("via" => "top") }
)");
  CHECK(p->has(a, Policy::Hook::ShapeWebhook));
  CHECK(p->has(b, Policy::Hook::ShapeWebhook));
  CHECK(shape(*p, a, kMemberAdded).kind == PolicyVerdict::Kind::Drop);
  PolicyVerdict v = shape(*p, b, kMemberAdded);
  CHECK(v.kind == PolicyVerdict::Kind::Rewrite);
  CHECK(v.data.find(R"("via":"top")") != std::string::npos);
  auto none = policy_of("app \"c\", key: \"kc\", secret: \"s\"\n");
  CHECK_FALSE(none->has(c, Policy::Hook::ShapeWebhook));
}
