// WebhookQueue with fake clocks: batching, signatures, the 3 s departure delay and its
// cancellation, retries and their back-off, drops (4xx, queue full, retries exhausted), cache_miss
// de-duplication, per-receiver filters, and the sender's wake-ups.
#include "webhooks/webhook_queue.h"

#include "support.h"
#include "webhooks/retry_policy.h"

using namespace raptor;
using namespace raptor::test;

namespace {

WebhookEndpoint endpoint(uint32_t types = kDefaultWebhookTypes, std::string prefix = "") {
  WebhookEndpoint e;
  e.url = "http://127.0.0.1:9000/hook";
  e.host = "127.0.0.1";
  e.port = 9000;
  e.types = types;
  e.channel_prefix = std::move(prefix);
  return e;
}

WebhookEvent event(WebhookType type, std::string channel, std::string user_id = "") {
  WebhookEvent e;
  e.type = type;
  e.channel = std::move(channel);
  e.user_id = std::move(user_id);
  return e;
}

WebhookEvent client_event(std::string channel, std::string name) {
  WebhookEvent e = event(WebhookType::ClientEvent, std::move(channel));
  e.event = std::move(name);
  e.data = "{\"n\":1}";
  e.socket_id = "1.2";
  return e;
}

struct QueueHarness {
  FakeClock steady;
  int64_t wall_ms = 1700000000000;
  AppList apps;
  WebhookSettings settings;
  std::unique_ptr<WebhookQueue> queue;
  int wakeups = 0;

  explicit QueueHarness(std::vector<WebhookEndpoint> endpoints = {endpoint()}, WebhookSettings s = {}) : settings(s) {
    apps.push_back(reference_app());
    apps[0].webhooks = std::move(endpoints);
    queue = std::make_unique<WebhookQueue>(apps, settings, [this] { return steady.now_ms; },
                                           [this] { return wall_ms; });
    sender().on_wakeup([this] { ++wakeups; });
  }
  const App& app() const { return apps[0]; }
  // The queue as each of its callers sees it.
  WebhookSink& sink() { return *queue; }
  SenderLink& sender() { return *queue; }
  StreamLink& stream() { return *queue; }
  void emit(WebhookEvent e) { sink().emit(app(), std::move(e)); }
  // Advances to when the queue says it is next due and takes what is ready then.
  std::vector<WebhookRequest> take_when_due() {
    int64_t due = sender().next_due();
    REQUIRE(due != INT64_MAX);
    if (due > steady.now_ms) steady.now_ms = due;
    return sender().take_ready();
  }
};

// "name:channel[:user_id]" of each event in a body, in order.
std::vector<std::string> names_in(const std::string& body) {
  auto root = strict_parse(body);
  std::vector<std::string> out;
  const cJSON* e;
  cJSON_ArrayForEach(e, member(root.get(), "events")) {
    std::string s = string_of(e, "name") + ":" + string_of(e, "channel");
    if (cJSON_GetObjectItemCaseSensitive(e, "user_id")) s += ":" + string_of(e, "user_id");
    out.push_back(s);
  }
  return out;
}

std::string header(const WebhookRequest& r, const std::string& name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return v;
  FAIL("no header " << name);
  return {};
}

}  // namespace

TEST_CASE("events within the batch window leave in one signed POST", "[webhooks]") {
  QueueHarness h;
  h.emit(event(WebhookType::ChannelOccupied, "a"));
  h.steady.advance(20);
  h.emit(client_event("private-a", "client-x"));
  CHECK(h.sender().take_ready().empty());  // the window is still open
  CHECK(h.sender().next_due() == 1'000'000 + 50);
  auto ready = h.take_when_due();
  REQUIRE(ready.size() == 1);
  const auto& r = ready[0];
  CHECK(names_in(r.body) == std::vector<std::string>{"channel_occupied:a", "client_event:private-a"});
  auto root = strict_parse(r.body);
  CHECK(number_of(root.get(), "time_ms") == 1700000000000.0);
  CHECK(header(r, "Content-Type") == "application/json");
  CHECK(header(r, "X-Pusher-Key") == kRefKey);
  CHECK(header(r, "X-Pusher-Signature") == signature::hmac_sha256_hex(kRefSecret, r.body));
  h.sender().finish(r.id, 200, "");
  auto s = h.sink().stats();
  CHECK(s.queued == 2);
  CHECK(s.sent == 2);
  CHECK(s.pending == 0);
  CHECK(h.sender().next_due() == INT64_MAX);
}

TEST_CASE("a full batch leaves at once, max_batch_events per POST", "[webhooks]") {
  WebhookSettings s;
  s.max_batch_events = 3;
  QueueHarness h({endpoint()}, s);
  for (int i = 0; i < 5; ++i) h.emit(client_event("private-a", "client-" + std::to_string(i)));
  auto first = h.sender().take_ready();  // no waiting for the window
  REQUIRE(first.size() == 1);
  CHECK(names_in(first[0].body).size() == 3);
  h.sender().finish(first[0].id, 204, "");
  auto second = h.take_when_due();
  REQUIRE(second.size() == 1);
  auto root = strict_parse(second[0].body);
  std::vector<std::string> events;
  const cJSON* e;
  cJSON_ArrayForEach(e, member(root.get(), "events")) events.push_back(string_of(e, "event"));
  CHECK(events == std::vector<std::string>{"client-3", "client-4"});
}

TEST_CASE("one POST at a time per receiver: later events wait and keep their order", "[webhooks]") {
  QueueHarness h;
  h.emit(event(WebhookType::ChannelOccupied, "a"));
  auto first = h.take_when_due();
  REQUIRE(first.size() == 1);
  h.emit(event(WebhookType::ChannelOccupied, "b"));
  h.steady.advance(1000);
  CHECK(h.sender().take_ready().empty());
  CHECK(h.sender().next_due() == INT64_MAX);  // nothing until the POST in flight ends
  h.sender().finish(first[0].id, 200, "");
  auto second = h.take_when_due();
  REQUIRE(second.size() == 1);
  CHECK(names_in(second[0].body) == std::vector<std::string>{"channel_occupied:b"});
}

TEST_CASE("channel_vacated waits 3 s, and re-occupying within them sends neither event", "[webhooks]") {
  QueueHarness h;
  h.emit(event(WebhookType::ChannelOccupied, "a"));
  h.sender().finish(h.take_when_due().at(0).id, 200, "");

  SECTION("a reload: vacated then occupied within 3 s") {
    h.emit(event(WebhookType::ChannelVacated, "a"));
    h.steady.advance(2999);
    CHECK(h.sender().take_ready().empty());
    h.emit(event(WebhookType::ChannelOccupied, "a"));
    h.steady.advance(10000);
    CHECK(h.sender().take_ready().empty());
    CHECK(h.sender().next_due() == INT64_MAX);
    CHECK(h.sink().stats().queued == 1);
  }
  SECTION("left for good: vacated after 3 s, and a later occupied is sent") {
    int64_t left = h.steady.now_ms;
    h.emit(event(WebhookType::ChannelVacated, "a"));
    CHECK(h.sender().next_due() == left + 3000);
    auto ready = h.take_when_due();  // 3 s: into the outbox, then the batch window
    CHECK(ready.empty());
    ready = h.take_when_due();
    REQUIRE(ready.size() == 1);
    CHECK(h.steady.now_ms == left + 3050);
    CHECK(names_in(ready[0].body) == std::vector<std::string>{"channel_vacated:a"});
    h.sender().finish(ready[0].id, 200, "");
    h.emit(event(WebhookType::ChannelOccupied, "a"));
    ready = h.take_when_due();
    REQUIRE(ready.size() == 1);
    CHECK(names_in(ready[0].body) == std::vector<std::string>{"channel_occupied:a"});
  }
}

TEST_CASE("a departure the cluster decided goes out without this node's delay or cancelling", "[webhooks][cluster]") {
  QueueHarness h;
  int64_t start = h.steady.now_ms;
  h.emit(event(WebhookType::ChannelVacated, "held-here"));  // a departure of this node's own: held
  h.sink().emit_decided(h.app(), event(WebhookType::ChannelOccupied, "held-here"));  // cancels nothing
  h.sink().emit_decided(h.app(), event(WebhookType::ChannelVacated, "b"));  // waited in Redis already
  auto ready = h.take_when_due();
  REQUIRE(ready.size() == 1);
  CHECK(h.steady.now_ms == start + 50);  // the batch window only
  CHECK(names_in(ready[0].body) == std::vector<std::string>{"channel_occupied:held-here", "channel_vacated:b"});
  h.sender().finish(ready[0].id, 200, "");
  ready = h.take_when_due();  // the node's own departure, after its 3 s
  ready = ready.empty() ? h.take_when_due() : ready;
  REQUIRE(ready.size() == 1);
  CHECK(names_in(ready[0].body) == std::vector<std::string>{"channel_vacated:held-here"});
}

TEST_CASE("member_removed waits 3 s and is cancelled by the same user rejoining only", "[webhooks]") {
  QueueHarness h;
  h.emit(event(WebhookType::MemberRemoved, "presence-r", "u1"));
  h.emit(event(WebhookType::MemberRemoved, "presence-r", "u2"));
  h.steady.advance(1000);
  h.emit(event(WebhookType::MemberAdded, "presence-r", "u1"));    // u1 reloaded
  h.emit(event(WebhookType::MemberAdded, "presence-other", "u2"));  // another channel: no cancel
  auto ready = h.take_when_due();
  REQUIRE(ready.size() == 1);
  CHECK(names_in(ready[0].body) == std::vector<std::string>{"member_added:presence-other:u2"});
  h.sender().finish(ready[0].id, 200, "");
  h.take_when_due();  // u2's departure is due
  ready = h.take_when_due();
  REQUIRE(ready.size() == 1);
  CHECK(names_in(ready[0].body) == std::vector<std::string>{"member_removed:presence-r:u2"});
}

TEST_CASE("back-off doubles from the base up to the cap", "[webhooks]") {
  WebhookSettings s;  // defaults: 1 s doubling, 60 s at most
  std::vector<int64_t> waits;
  for (int n = 1; n <= 9; ++n) waits.push_back(retry_delay_ms(s, n));
  CHECK(waits == std::vector<int64_t>{1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000});
  s.retry_base_ms = 100;
  s.retry_max_ms = 250;
  CHECK(retry_delay_ms(s, 1) == 100);
  CHECK(retry_delay_ms(s, 2) == 200);
  CHECK(retry_delay_ms(s, 3) == 250);
  CHECK(retry_delay_ms(s, 1000) == 250);
}

TEST_CASE("which answers are retried", "[webhooks]") {
  for (int status : {200, 201, 202, 204, 299}) CHECK(classify_status(status) == DeliveryOutcome::Delivered);
  for (int status : {0, 429, 500, 502, 503, 504, 599}) CHECK(classify_status(status) == DeliveryOutcome::Failed);
  for (int status : {100, 301, 302, 400, 401, 403, 404, 408, 413, 499})
    CHECK(classify_status(status) == DeliveryOutcome::Rejected);
}

TEST_CASE("a failed POST is repeated with the same body after each back-off", "[webhooks]") {
  QueueHarness h;
  h.emit(event(WebhookType::ChannelOccupied, "a"));
  auto first = h.take_when_due().at(0);
  int64_t t = h.steady.now_ms;
  h.sender().finish(first.id, 503, "");
  CHECK(h.sender().next_due() == t + 1000);
  h.steady.advance(999);
  CHECK(h.sender().take_ready().empty());
  h.steady.advance(1);
  auto second = h.sender().take_ready().at(0);
  CHECK(second.body == first.body);  // same time_ms and signature: the receiver can tell
  CHECK(second.attempt == 2);
  h.sender().finish(second.id, 0, "connection refused");
  CHECK(h.sender().next_due() == h.steady.now_ms + 2000);
  h.steady.advance(2000);
  auto third = h.sender().take_ready().at(0);
  h.sender().finish(third.id, 429, "");
  CHECK(h.sender().next_due() == h.steady.now_ms + 4000);
  auto fourth = h.take_when_due().at(0);
  h.sender().finish(fourth.id, 200, "");
  auto s = h.sink().stats();
  CHECK(s.sent == 1);
  CHECK(s.retried == 3);
  CHECK(s.dropped == 0);
}

TEST_CASE("a receiver that keeps failing is retried for at least 5 minutes, then dropped", "[webhooks]") {
  QueueHarness h;
  h.emit(event(WebhookType::ChannelOccupied, "a"));
  int64_t emitted = h.steady.now_ms;
  int attempts = 0;
  int64_t last_attempt = 0;
  while (h.sink().stats().dropped == 0) {
    auto r = h.take_when_due();
    if (r.empty()) continue;
    ++attempts;
    last_attempt = h.steady.now_ms;
    h.sender().finish(r[0].id, 500, "");
    REQUIRE(attempts < 100);
  }
  CHECK(last_attempt - emitted >= 300000);
  CHECK(attempts == 11);  // 1+2+4+…+32 s, then every 60 s past the 5 minutes
  CHECK(h.sink().stats().dropped == 1);
  CHECK(h.sink().stats().pending == 0);
  CHECK(h.sender().next_due() == INT64_MAX);
}

TEST_CASE("a 4xx answer drops the batch at once, and the next batch goes on", "[webhooks]") {
  QueueHarness h;
  h.emit(event(WebhookType::ChannelOccupied, "a"));
  auto r = h.take_when_due().at(0);
  h.emit(event(WebhookType::ChannelOccupied, "b"));
  h.sender().finish(r.id, 404, "");
  auto next = h.take_when_due().at(0);
  CHECK(names_in(next.body) == std::vector<std::string>{"channel_occupied:b"});
  CHECK(next.attempt == 1);
  CHECK(h.sink().stats().dropped == 1);
  CHECK(h.sink().stats().retried == 0);
}

TEST_CASE("events that waited past the retry period while the receiver fails are dropped", "[webhooks]") {
  WebhookSettings s;
  s.retry_for_ms = 10000;
  QueueHarness h({endpoint()}, s);
  h.emit(event(WebhookType::ChannelOccupied, "a"));
  auto r = h.take_when_due().at(0);
  h.steady.advance(100);
  h.emit(event(WebhookType::ChannelOccupied, "b"));  // waits behind the failing batch
  while (h.sink().stats().dropped == 0) {
    h.sender().finish(r.id, 500, "");
    auto next = h.take_when_due();
    if (!next.empty()) r = next[0];
  }
  // a's batch is given up; b waited as long and the receiver still fails: dropped unsent.
  CHECK(h.sender().take_ready().empty());
  CHECK(h.sink().stats().dropped == 2);
  CHECK(h.sink().stats().pending == 0);
}

TEST_CASE("a full queue drops new events and counts them", "[webhooks]") {
  WebhookSettings s;
  s.queue_limit = 5;
  QueueHarness h({endpoint()}, s);
  for (int i = 0; i < 8; ++i) h.emit(client_event("private-a", "client-" + std::to_string(i)));
  auto st = h.sink().stats();
  CHECK(st.queued == 5);
  CHECK(st.dropped == 3);
  CHECK(st.pending == 5);
  auto r = h.take_when_due().at(0);
  CHECK(names_in(r.body).size() == 5);  // the first five, in order
  h.sender().finish(r.id, 200, "");
  h.emit(client_event("private-a", "client-after"));
  CHECK(h.sink().stats().queued == 6);
}

TEST_CASE("cache_miss is sent once per channel per window", "[webhooks]") {
  QueueHarness h;
  h.emit(event(WebhookType::CacheMiss, "cache-a"));
  h.emit(event(WebhookType::CacheMiss, "cache-a"));
  h.emit(event(WebhookType::CacheMiss, "cache-b"));
  h.steady.advance(999);
  h.emit(event(WebhookType::CacheMiss, "cache-a"));
  CHECK(h.sink().stats().queued == 2);
  h.steady.advance(1);
  h.emit(event(WebhookType::CacheMiss, "cache-a"));
  CHECK(h.sink().stats().queued == 3);
}

TEST_CASE("each receiver gets the types and channels it asked for, in its own POSTs", "[webhooks]") {
  QueueHarness h({endpoint(webhook_type_bit(WebhookType::ClientEvent)),
                  endpoint(kDefaultWebhookTypes, "presence-")});
  h.emit(event(WebhookType::ChannelOccupied, "presence-a"));
  h.emit(event(WebhookType::ChannelOccupied, "news"));
  h.emit(client_event("private-a", "client-x"));
  h.emit(client_event("presence-a", "client-y"));
  auto ready = h.take_when_due();
  REQUIRE(ready.size() == 2);
  CHECK(names_in(ready[0].body) == std::vector<std::string>{"client_event:private-a", "client_event:presence-a"});
  CHECK(names_in(ready[1].body) == std::vector<std::string>{"channel_occupied:presence-a", "client_event:presence-a"});
  CHECK(h.sink().stats().queued == 4);
}

TEST_CASE("subscription_count only when asked for, and suffix filters", "[webhooks]") {
  WebhookEndpoint counts = endpoint(webhook_type_bit(WebhookType::SubscriptionCount));
  counts.channel_suffix = "-live";
  QueueHarness h({endpoint(), counts});
  WebhookEvent e = event(WebhookType::SubscriptionCount, "game-live");
  e.subscription_count = 7;
  h.emit(e);
  e.channel = "game-over";
  h.emit(e);
  auto ready = h.take_when_due();
  REQUIRE(ready.size() == 1);
  CHECK(*ready[0].endpoint == h.app().webhooks[1]);
  CHECK(ready[0].body.find("\"subscription_count\":7") != std::string::npos);
  CHECK(names_in(ready[0].body) == std::vector<std::string>{"subscription_count:game-live"});
}

TEST_CASE("the sender is woken when work becomes due sooner, not for every event", "[webhooks]") {
  QueueHarness h;
  h.emit(event(WebhookType::ChannelOccupied, "a"));
  CHECK(h.wakeups == 1);
  h.emit(event(WebhookType::ChannelOccupied, "b"));  // joins the open batch
  CHECK(h.wakeups == 1);
  h.sender().next_due();
  h.emit(event(WebhookType::ChannelVacated, "c"));  // due in 3 s: later than the batch
  CHECK(h.wakeups == 1);
  auto r = h.take_when_due().at(0);
  h.sender().finish(r.id, 200, "");
  CHECK(h.sender().next_due() > h.steady.now_ms);  // the departure
  h.emit(event(WebhookType::ChannelOccupied, "d"));  // a new batch, due before the departure
  CHECK(h.wakeups == 2);
}

TEST_CASE("a drain waits for departures and healthy receivers but not for a failing one", "[webhooks][drain]") {
  QueueHarness h({endpoint(), endpoint()});
  h.emit(event(WebhookType::ChannelOccupied, "a"));
  h.emit(event(WebhookType::ChannelVacated, "b"));
  CHECK(h.queue->flushable() == 3);  // occupied for each receiver, the departure held once
  auto posts = h.take_when_due();
  REQUIRE(posts.size() == 2);
  h.sender().finish(posts[0].id, 200, "");
  h.sender().finish(posts[1].id, 503, "");  // waits for its back-off now
  CHECK(h.queue->flushable() == 1);       // the departure only
  h.steady.advance(3000);
  h.sender().take_ready();  // the departure's delay is over: it joins both outboxes
  CHECK(h.queue->flushable() == 1);  // the healthy receiver's copy
  CHECK(h.queue->abandon() == 3);    // a shutdown still counts the failing receiver's two
}

TEST_CASE("shutdown counts what was not delivered", "[webhooks]") {
  QueueHarness h;
  h.emit(event(WebhookType::ChannelOccupied, "a"));
  h.emit(event(WebhookType::ChannelVacated, "b"));
  CHECK(h.queue->abandon() == 2);
  CHECK(h.sink().stats().dropped == 2);
  CHECK(h.sender().next_due() == INT64_MAX);
}

TEST_CASE("an app without receivers, or another app's receivers, get nothing", "[webhooks]") {
  AppList apps{reference_app("1"), reference_app("2")};
  apps[1].key = "other";
  apps[1].webhooks = {endpoint()};
  WebhookQueue queue(apps, {}, [] { return int64_t(0); }, [] { return int64_t(0); });
  WebhookSink& sink = queue;
  sink.emit(apps[0], event(WebhookType::ChannelOccupied, "a"));
  CHECK(sink.stats().queued == 0);
  sink.emit(apps[1], event(WebhookType::ChannelOccupied, "a"));
  CHECK(sink.stats().queued == 1);
}

// ---------------------------------------------------------------- reload

TEST_CASE("a reload keeps an unchanged receiver's events and drops a removed one's", "[webhooks][reload]") {
  WebhookEndpoint kept = endpoint(), removed = endpoint();
  removed.url = "http://127.0.0.1:9001/other";
  removed.port = 9001;
  QueueHarness h({kept, removed});
  h.emit(event(WebhookType::ChannelOccupied, "a"));
  h.apps[0].webhooks = {kept};
  h.queue->reconfigure(h.apps);
  auto s = h.sink().stats();
  CHECK(s.dropped == 1);  // the removed receiver's copy
  CHECK(s.pending == 1);
  auto ready = h.take_when_due();
  REQUIRE(ready.size() == 1);
  CHECK(ready[0].endpoint->url == kept.url);
  CHECK(names_in(ready[0].body) == std::vector<std::string>{"channel_occupied:a"});
}

TEST_CASE("a batch retried after a reload is signed with the new secret", "[webhooks][reload]") {
  QueueHarness h;
  h.emit(event(WebhookType::ChannelOccupied, "a"));
  auto first = h.take_when_due();
  REQUIRE(first.size() == 1);
  h.sender().finish(first[0].id, 503, "");
  h.apps[0].secret = "renewed-secret";
  h.queue->reconfigure(h.apps);
  auto retry = h.take_when_due();
  REQUIRE(retry.size() == 1);
  CHECK(retry[0].body == first[0].body);
  CHECK(header(retry[0], "X-Pusher-Signature") == signature::hmac_sha256_hex("renewed-secret", retry[0].body));
}

TEST_CASE("a reload that changes a receiver's events starts it afresh, and a retired app has none", "[webhooks][reload]") {
  QueueHarness h;
  h.emit(event(WebhookType::ChannelOccupied, "a"));
  h.apps[0].webhooks[0].types = webhook_type_bit(WebhookType::ChannelOccupied);
  h.queue->reconfigure(h.apps);
  CHECK(h.sink().stats().dropped == 1);
  h.emit(event(WebhookType::ChannelOccupied, "b"));
  CHECK(h.sink().stats().pending == 1);
  h.apps[0].retired = true;
  h.queue->reconfigure(h.apps);
  CHECK(h.sink().stats().pending == 0);
  CHECK(h.sink().stats().dropped == 2);
}

// ---------------------------------------------------------------- shaping

namespace {

// A shape_webhook hook answered by the test.
struct ShapingPolicy : test::PassingPolicy {
  std::function<PolicyVerdict(const std::string& event)> answer;
  std::vector<std::string> seen;
  bool has(const App&, Hook hook) const override { return hook == Hook::ShapeWebhook; }
  PolicyVerdict shape_webhook(const WebhookShapeRequest& r) override {
    seen.emplace_back(r.event);
    return answer(std::string(r.event));
  }
};

PolicyVerdict verdict(PolicyVerdict::Kind kind, std::string data = {}, bool failed = false) {
  PolicyVerdict v;
  v.kind = kind;
  v.data = std::move(data);
  v.failed = failed;
  return v;
}

}  // namespace

TEST_CASE("shaped events wait for the hook, which drops, rewrites or passes each, in order", "[webhooks][shaping]") {
  QueueHarness h;
  h.queue->shape_events_of({&h.app()});
  ShapingPolicy policy;
  policy.answer = [](const std::string& e) {
    if (e.find("\"b\"") != std::string::npos) return verdict(PolicyVerdict::Kind::Drop);
    if (e.find("\"c\"") != std::string::npos) return verdict(PolicyVerdict::Kind::Rewrite, R"({"name":"renamed","channel":"c","x":1})");
    if (e.find("\"d\"") != std::string::npos) return verdict(PolicyVerdict::Kind::Pass, {}, true);  // the hook failed
    if (e.find("\"e\"") != std::string::npos) return verdict(PolicyVerdict::Kind::Deny);
    return verdict(PolicyVerdict::Kind::Pass);
  };
  for (const char* channel : {"a", "b", "c", "d", "e"}) h.emit(event(WebhookType::ChannelOccupied, channel));
  CHECK(h.sender().next_due() == h.steady.now_ms);  // the sender is to shape them now
  CHECK(h.sender().take_ready().empty());
  CHECK(h.sink().stats().pending == 5);
  h.sender().shape(&policy);
  CHECK(policy.seen == std::vector<std::string>{
                           R"({"name":"channel_occupied","channel":"a"})", R"({"name":"channel_occupied","channel":"b"})",
                           R"({"name":"channel_occupied","channel":"c"})", R"({"name":"channel_occupied","channel":"d"})",
                           R"({"name":"channel_occupied","channel":"e"})"});
  auto ready = h.take_when_due();
  REQUIRE(ready.size() == 1);
  CHECK(names_in(ready[0].body) == std::vector<std::string>{"channel_occupied:a", "renamed:c", "channel_occupied:d"});
  CHECK(ready[0].body.find(R"({"name":"renamed","channel":"c","x":1})") != std::string::npos);
  CHECK(header(ready[0], "X-Pusher-Signature") == signature::hmac_sha256_hex(kRefSecret, ready[0].body));
  auto s = h.sink().stats();
  CHECK(s.filtered == 2);
  CHECK(s.queued == 3);
  CHECK(s.dropped == 0);
}

TEST_CASE("the hook runs once per event, and receivers choose by the original type and channel", "[webhooks][shaping]") {
  QueueHarness h({endpoint(webhook_type_bit(WebhookType::ClientEvent)), endpoint(kDefaultWebhookTypes, "private-")});
  h.queue->shape_events_of({&h.app()});
  ShapingPolicy policy;
  policy.answer = [](const std::string&) {
    return verdict(PolicyVerdict::Kind::Rewrite, R"({"name":"message","channel":"elsewhere"})");
  };
  h.emit(client_event("private-a", "client-x"));
  h.emit(event(WebhookType::ChannelOccupied, "public-b"));  // no receiver wants it: no hook call
  h.sender().shape(&policy);
  CHECK(policy.seen.size() == 1);
  auto ready = h.take_when_due();
  REQUIRE(ready.size() == 2);
  for (const auto& r : ready) CHECK(names_in(r.body) == std::vector<std::string>{"message:elsewhere"});
}

TEST_CASE("without a hook (none, or a reload took it away) shaped events go out as they were", "[webhooks][shaping]") {
  QueueHarness h;
  h.queue->shape_events_of({&h.app()});
  h.emit(event(WebhookType::ChannelOccupied, "a"));
  h.sender().shape(nullptr);
  auto ready = h.take_when_due();
  REQUIRE(ready.size() == 1);
  CHECK(names_in(ready[0].body) == std::vector<std::string>{"channel_occupied:a"});
}

TEST_CASE("departures are shaped when their delay has passed, and apps without the hook are not held", "[webhooks][shaping]") {
  AppList apps{reference_app("1"), reference_app("2")};
  apps[1].key = "other";
  apps[0].webhooks = apps[1].webhooks = {endpoint()};
  FakeClock clock;
  WebhookQueue queue(apps, {}, [&] { return clock.now_ms; }, [] { return int64_t(0); });
  WebhookSink& sink = queue;
  SenderLink& sender = queue;
  queue.shape_events_of({&apps[0]});
  ShapingPolicy policy;
  policy.answer = [](const std::string&) { return verdict(PolicyVerdict::Kind::Pass); };
  sink.emit(apps[0], event(WebhookType::ChannelVacated, "a"));
  sink.emit(apps[1], event(WebhookType::ChannelOccupied, "b"));
  clock.advance(50);
  auto ready = sender.take_ready();  // app 2: straight to its outbox
  REQUIRE(ready.size() == 1);
  CHECK(ready[0].app == &apps[1]);
  sender.shape(&policy);
  CHECK(policy.seen.empty());  // the departure is still in its delay
  clock.advance(3000);
  sender.shape(&policy);
  CHECK(policy.seen.size() == 1);
}

TEST_CASE("events beyond the limit waiting for the hook are dropped and counted", "[webhooks][shaping]") {
  WebhookSettings s;
  s.queue_limit = 2;
  QueueHarness h({endpoint()}, s);
  h.queue->shape_events_of({&h.app()});
  for (const char* channel : {"a", "b", "c"}) h.emit(event(WebhookType::ChannelOccupied, channel));
  CHECK(h.sink().stats().dropped == 1);
  CHECK(h.sink().stats().pending == 2);
  CHECK(h.queue->abandon() == 2);
}

// ------------------------------------------------------------------ the cluster's stream

namespace {

// A harness whose queue goes through the stream: events it emits come out of take_for_stream().
struct StreamHarness : QueueHarness {
  explicit StreamHarness(std::vector<WebhookEndpoint> endpoints = {endpoint(), endpoint(kDefaultWebhookTypes, "x")},
                         WebhookSettings s = {})
      : QueueHarness(std::move(endpoints), s) {
    stream().use_stream();
    stream().set_stream_up(true);
  }
  // Emits `e` and hands it back from the stream as entry `id`.
  void through_stream(WebhookEvent e, const std::string& id) {
    emit(std::move(e));
    auto out = stream().take_for_stream();
    REQUIRE(out.size() == 1);
    stream().deliver_streamed(id, out[0], false);
  }
};

StreamedWebhook streamed(const App& app, const std::string& channel, int64_t emitted_ms) {
  return StreamedWebhook{app.id, WebhookType::ChannelOccupied, channel,
                         "{\"name\":\"channel_occupied\",\"channel\":\"" + channel + "\"}", emitted_ms, "node-b"};
}

}  // namespace

TEST_CASE("with the stream up events wait for it rather than the outboxes", "[webhooks][stream]") {
  StreamHarness h;
  h.emit(event(WebhookType::ChannelOccupied, "x-1"));
  h.emit(event(WebhookType::SubscriptionCount, "x-2"));  // wanted by no receiver: not streamed
  CHECK(h.wakeups == 1);
  CHECK(h.sender().next_due() == h.steady.now_ms);
  h.steady.advance(1000);
  CHECK(h.sender().take_ready().empty());
  auto out = h.stream().take_for_stream();
  REQUIRE(out.size() == 1);
  CHECK(out[0].app_id == h.app().id);
  CHECK(out[0].type == WebhookType::ChannelOccupied);
  CHECK(out[0].channel == "x-1");
  CHECK(out[0].json == "{\"name\":\"channel_occupied\",\"channel\":\"x-1\"}");
  CHECK(out[0].emitted_ms == h.wall_ms);  // Unix time of its emission (the fake wall clock stands still)
  CHECK(h.sink().stats().queued == 0);
}

TEST_CASE("a streamed entry is settled once every receiver's outcome is final", "[webhooks][stream]") {
  StreamHarness h;
  h.through_stream(event(WebhookType::ChannelOccupied, "x-1"), "1-0");
  CHECK(h.stream().held_entries() == std::vector<std::string>{"1-0"});
  auto ready = h.take_when_due();
  REQUIRE(ready.size() == 2);  // both receivers want it
  h.sender().finish(ready[0].id, 200, "");
  CHECK(h.stream().take_settled().empty());
  h.sender().finish(ready[1].id, 500, "");  // retried: not final
  CHECK(h.stream().take_settled().empty());
  auto retry = h.take_when_due();
  REQUIRE(retry.size() == 1);
  h.sender().finish(retry[0].id, 404, "");  // refused: final
  CHECK(h.stream().take_settled() == std::vector<std::string>{"1-0"});
  CHECK(h.stream().held_entries().empty());
  auto s = h.sink().stats();
  CHECK(s.sent == 1);
  CHECK(s.dropped == 1);
  CHECK(s.stream.read == 1);
}

TEST_CASE("an entry held already is not taken twice", "[webhooks][stream]") {
  StreamHarness h({endpoint()});
  h.through_stream(event(WebhookType::ChannelOccupied, "a"), "1-0");
  h.stream().deliver_streamed("1-0", streamed(h.app(), "a", h.wall_ms), true);  // claimed back after a missed renewal
  auto ready = h.take_when_due();
  REQUIRE(ready.size() == 1);
  CHECK(names_in(ready[0].body) == std::vector<std::string>{"channel_occupied:a"});
  CHECK(h.sink().stats().stream.claimed == 0);
}

TEST_CASE("entries for an unknown app or wanted by no receiver here are settled and dropped", "[webhooks][stream]") {
  StreamHarness h({endpoint(kDefaultWebhookTypes, "x")});
  App stranger = reference_app("elsewhere");
  h.stream().deliver_streamed("1-0", streamed(stranger, "x-1", h.wall_ms), false);
  h.stream().deliver_streamed("2-0", streamed(h.app(), "y-1", h.wall_ms), false);  // the prefix is x
  h.stream().discard_streamed("3-0");  // not a webhook event at all
  CHECK(h.stream().take_settled() == std::vector<std::string>{"1-0", "2-0", "3-0"});
  CHECK(h.sink().stats().dropped == 3);
  CHECK(h.sender().take_ready().empty());
}

TEST_CASE("streamed entries: expired ones and those beyond a full outbox are settled", "[webhooks][stream]") {
  WebhookSettings s;
  s.queue_limit = 1;
  s.retry_for_ms = 10000;
  StreamHarness h({endpoint()}, s);
  h.stream().deliver_streamed("1-0", streamed(h.app(), "a", h.wall_ms), false);
  h.stream().deliver_streamed("2-0", streamed(h.app(), "b", h.wall_ms), false);  // full
  CHECK(h.stream().take_settled() == std::vector<std::string>{"2-0"});
  auto ready = h.take_when_due();
  REQUIRE(ready.size() == 1);
  h.sender().finish(ready[0].id, 503, "");
  h.steady.advance(20000);  // past retry_for: given up at its next failure
  auto retry = h.sender().take_ready();
  REQUIRE(retry.size() == 1);
  h.sender().finish(retry[0].id, 503, "");
  CHECK(h.stream().take_settled() == std::vector<std::string>{"1-0"});
}

TEST_CASE("a claimed entry keeps its emission time for the retry period", "[webhooks][stream]") {
  WebhookSettings s;
  s.retry_for_ms = 10000;
  StreamHarness h({endpoint()}, s);
  h.stream().deliver_streamed("1-0", streamed(h.app(), "a", h.wall_ms - 9000), true);  // emitted 9 s ago elsewhere
  auto ready = h.take_when_due();
  REQUIRE(ready.size() == 1);
  h.steady.advance(1000);
  h.sender().finish(ready[0].id, 0, "refused");  // 10 s after its emission: given up
  CHECK(h.stream().take_settled() == std::vector<std::string>{"1-0"});
  CHECK(h.sink().stats().stream.claimed == 1);
}

TEST_CASE("an entry read after its retry period is settled and dropped unsent", "[webhooks][stream]") {
  WebhookSettings s;
  s.retry_for_ms = 10000;
  StreamHarness h({endpoint()}, s);
  h.stream().deliver_streamed("1-0", streamed(h.app(), "a", h.wall_ms - 10000), false);
  CHECK(h.stream().take_settled() == std::vector<std::string>{"1-0"});
  CHECK(h.sink().stats().dropped == 1);
  CHECK(h.sender().take_ready().empty());
}

TEST_CASE("with the stream down events are delivered here and counted as local", "[webhooks][stream]") {
  StreamHarness h({endpoint()});
  h.stream().set_stream_up(false);
  h.emit(event(WebhookType::ChannelOccupied, "a"));
  CHECK(h.stream().take_for_stream().empty());
  h.stream().set_stream_up(true);
  h.emit(event(WebhookType::ChannelOccupied, "b"));
  auto failed = h.stream().take_for_stream();  // its XADD got no answer: delivered here
  h.stream().deliver_here(std::move(failed));
  auto ready = h.take_when_due();
  REQUIRE(ready.size() == 1);
  CHECK(names_in(ready[0].body) == std::vector<std::string>{"channel_occupied:a", "channel_occupied:b"});
  h.sender().finish(ready[0].id, 200, "");
  CHECK(h.stream().take_settled().empty());  // not from the stream: nothing to acknowledge
  auto s = h.sink().stats();
  CHECK(s.stream.used);
  CHECK(s.stream.up);
  CHECK(s.stream.local == 2);
}

TEST_CASE("at shutdown held entries stay pending for another node", "[webhooks][stream]") {
  StreamHarness h({endpoint()});
  h.through_stream(event(WebhookType::ChannelOccupied, "a"), "1-0");
  CHECK(h.queue->abandon() == 1);
  CHECK(h.stream().take_settled().empty());
}

TEST_CASE("a reload that removes a receiver settles what it held", "[webhooks][stream]") {
  StreamHarness h({endpoint()});
  h.through_stream(event(WebhookType::ChannelOccupied, "a"), "1-0");
  h.apps[0].webhooks.clear();
  h.queue->reconfigure(h.apps);
  CHECK(h.stream().take_settled() == std::vector<std::string>{"1-0"});
}

// ------------------------------------------------------------------ a receiver that falls behind

namespace {

// A receiver that has taken a batch (of `first`) and not answered yet: what comes next waits.
WebhookRequest stalled(QueueHarness& h, const std::string& first = "first") {
  h.emit(event(WebhookType::ChannelOccupied, first));
  auto ready = h.take_when_due();
  REQUIRE(ready.size() == 1);
  return ready[0];
}

}  // namespace

TEST_CASE("a brief occupation the receiver was not told of yet is left untold", "[webhooks][flood]") {
  QueueHarness h;
  auto in_flight = stalled(h);
  h.emit(event(WebhookType::ChannelOccupied, "brief"));
  h.steady.advance(1000);
  h.emit(event(WebhookType::ChannelVacated, "brief"));
  h.emit(event(WebhookType::ChannelOccupied, "stays"));
  h.steady.advance(3000);  // the departure is due: it meets its occupied, still waiting
  h.sender().finish(in_flight.id, 200, "");
  auto ready = h.take_when_due();
  REQUIRE(ready.size() == 1);
  CHECK(names_in(ready[0].body) == std::vector<std::string>{"channel_occupied:stays"});
  auto s = h.sink().stats();
  CHECK(s.coalesced == 2);
  CHECK(s.dropped == 0);
  CHECK(s.pending == 1);
}

TEST_CASE("an occupation told already, or longer than the delay, gets its vacated", "[webhooks][flood]") {
  QueueHarness h;
  auto in_flight = stalled(h);
  h.emit(event(WebhookType::ChannelOccupied, "long"));
  h.steady.advance(5000);  // longer than the 3 s delay
  h.emit(event(WebhookType::ChannelVacated, "long"));
  h.emit(event(WebhookType::ChannelVacated, "first"));  // its occupied is in the batch on its way
  h.steady.advance(3000);
  h.sender().take_ready();  // the departures join the outbox
  h.sender().finish(in_flight.id, 200, "");
  auto ready = h.take_when_due();
  REQUIRE(ready.size() == 1);
  CHECK(names_in(ready[0].body) ==
        std::vector<std::string>{"channel_occupied:long", "channel_vacated:long", "channel_vacated:first"});
  CHECK(h.sink().stats().coalesced == 0);
}

TEST_CASE("a full queue drops the cheapest events first and keeps member events", "[webhooks][flood]") {
  WebhookSettings s;
  s.queue_limit = 6;  // the batch in flight counts: 5 wait
  QueueHarness h({endpoint(kDefaultWebhookTypes | webhook_type_bit(WebhookType::SubscriptionCount))}, s);
  auto in_flight = stalled(h);
  h.emit(event(WebhookType::CacheMiss, "cache-1"));
  h.emit(client_event("private-e", "client-x"));
  h.emit(event(WebhookType::ChannelOccupied, "o"));
  WebhookEvent count = event(WebhookType::SubscriptionCount, "s");
  count.subscription_count = 2;
  h.emit(count);
  h.emit(event(WebhookType::MemberAdded, "presence-r", "1"));
  REQUIRE(h.sink().stats().pending == 6);
  h.emit(event(WebhookType::CacheMiss, "cache-2"));  // the cheapest itself: dropped
  CHECK(h.sink().stats().dropped == 1);
  for (const char* user : {"2", "3", "4", "5", "6"}) h.emit(event(WebhookType::MemberAdded, "presence-r", user));
  // cache_miss, subscription_count, client_event, then channel_occupied made room; then the
  // member events had nothing cheaper to drop: the last is dropped itself.
  CHECK(h.sink().stats().dropped == 6);
  h.emit(event(WebhookType::ChannelVacated, "o"));
  h.steady.advance(3000);
  h.sender().take_ready();  // o's vacated is due: its occupied was dropped, so it is too
  CHECK(h.sink().stats().dropped == 7);
  h.sender().finish(in_flight.id, 200, "");
  auto ready = h.take_when_due();
  REQUIRE(ready.size() == 1);
  CHECK(names_in(ready[0].body) ==
        std::vector<std::string>{"member_added:presence-r:1", "member_added:presence-r:2", "member_added:presence-r:3",
                                 "member_added:presence-r:4", "member_added:presence-r:5"});
  h.sender().finish(ready[0].id, 200, "");
  h.emit(event(WebhookType::ChannelOccupied, "o"));  // a new occupation is told, and its vacated
  h.sender().finish(h.take_when_due().at(0).id, 200, "");
  h.emit(event(WebhookType::ChannelVacated, "o"));
  h.take_when_due();
  ready = h.take_when_due();
  REQUIRE(ready.size() == 1);
  CHECK(names_in(ready[0].body) == std::vector<std::string>{"channel_vacated:o"});
}

TEST_CASE("a pair left untold through the stream settles both entries", "[webhooks][flood][stream]") {
  StreamHarness h({endpoint()});
  h.through_stream(event(WebhookType::ChannelOccupied, "first"), "1-0");
  auto in_flight = h.take_when_due().at(0);
  h.through_stream(event(WebhookType::ChannelOccupied, "brief"), "2-0");
  h.steady.advance(1000);
  h.emit(event(WebhookType::ChannelVacated, "brief"));
  h.steady.advance(3000);
  h.sender().take_ready();  // the departure is due: to the stream
  auto out = h.stream().take_for_stream();
  REQUIRE(out.size() == 1);
  h.stream().deliver_streamed("3-0", out[0], false);
  CHECK(h.stream().take_settled() == std::vector<std::string>{"2-0", "3-0"});
  CHECK(h.sink().stats().coalesced == 2);
  h.sender().finish(in_flight.id, 200, "");
  CHECK(h.stream().take_settled() == std::vector<std::string>{"1-0"});
}
