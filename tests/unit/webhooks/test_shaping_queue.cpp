// ShapingQueue (src/webhooks/shaping_queue.h): which apps' events wait for shape_webhook, the
// bound, and what the hook's verdicts do to the events taken.
#include "webhooks/shaping_queue.h"

#include "support.h"

using namespace raptor;
using namespace raptor::test;

namespace {

// Answers shape_webhook by the event's text: "drop", "deny", "fail" or "rewrite"; else passes.
struct AnsweringPolicy : PassingPolicy {
  const App* without_hook = nullptr;
  bool has(const App& app, Hook hook) const override { return hook == Hook::ShapeWebhook && &app != without_hook; }
  PolicyVerdict shape_webhook(const WebhookShapeRequest& r) override {
    PolicyVerdict v;
    std::string e(r.event);
    if (e == "drop") v.kind = PolicyVerdict::Kind::Drop;
    if (e == "deny") v.kind = PolicyVerdict::Kind::Deny;
    if (e == "fail") v.kind = PolicyVerdict::Kind::Drop, v.failed = true;
    if (e == "rewrite") v.kind = PolicyVerdict::Kind::Rewrite, v.data = "rewritten";
    return v;
  }
};

ShapingQueue::Event event(const App& app, std::string json, int64_t at = 0) {
  return {&app, WebhookType::ClientEvent, "room", at, std::move(json)};
}

std::vector<std::string> jsons(const std::deque<ShapingQueue::Event>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.json);
  return out;
}

}  // namespace

TEST_CASE("shaping queue: only the named apps' events are shaped, held oldest first", "[webhooks][shaping]") {
  App a = reference_app("a"), b = reference_app("b");
  ShapingQueue q(10);
  q.shape_events_of({&a});
  CHECK(q.shapes(a));
  CHECK_FALSE(q.shapes(b));
  CHECK(q.oldest_ms() == INT64_MAX);
  REQUIRE(q.hold(event(a, "1", 5)));
  REQUIRE(q.hold(event(a, "2", 7)));
  CHECK(q.oldest_ms() == 5);
  CHECK(jsons(q.take_all()) == std::vector<std::string>{"1", "2"});
  CHECK(q.size() == 0);
}

TEST_CASE("shaping queue: beyond its limit new events are refused until it drains", "[webhooks][shaping]") {
  App a = reference_app("a");
  ShapingQueue q(2);
  CHECK(q.hold(event(a, "1")));
  CHECK(q.hold(event(a, "2")));
  CHECK_FALSE(q.hold(event(a, "3")));
  q.take_all();
  CHECK(q.hold(event(a, "4")));
}

TEST_CASE("shaping queue: the hook drops, rewrites or passes each, and a failure or no hook passes", "[webhooks][shaping]") {
  App a = reference_app("a"), b = reference_app("b");
  AnsweringPolicy policy;
  policy.without_hook = &b;
  std::deque<ShapingQueue::Event> events{event(a, "pass"), event(a, "drop"), event(a, "rewrite"), event(a, "deny"),
                                         event(a, "fail"), event(b, "drop")};
  CHECK(ShapingQueue::run_hook(&policy, events) == 2);
  CHECK(jsons(events) == std::vector<std::string>{"pass", "rewritten", "fail", "drop"});
  std::deque<ShapingQueue::Event> unshaped{event(a, "drop")};
  CHECK(ShapingQueue::run_hook(nullptr, unshaped) == 0);
  CHECK(jsons(unshaped) == std::vector<std::string>{"drop"});
}
