// core/webhook_emitter: the engine's own webhooks reach the hub's sink only for an app with
// receivers; those the cluster decided go through emit_decided.
#include "core/webhook_emitter.h"

#include "support.h"

using namespace raptor;
using namespace raptor::test;

namespace {

// Each event as "[decided ]type:channel".
struct SinkLog : WebhookSink {
  std::vector<std::string> lines;
  std::vector<WebhookEvent> events;
  void emit(const App&, WebhookEvent e) override { note("", std::move(e)); }
  void emit_decided(const App&, WebhookEvent e) override { note("decided ", std::move(e)); }
  WebhookStats stats() const override { return {}; }
  void note(const std::string& how, WebhookEvent e) {
    lines.push_back(how + std::string(webhook_type_name(e.type)) + ":" + e.channel);
    events.push_back(std::move(e));
  }
};

struct Node {
  App app = reference_app();
  Hub hub{1};
  SinkLog sink;
  WebhookEmitter webhooks{hub};
  Node() {
    app.webhooks.emplace_back();
    hub.set_webhooks(&sink);
  }
};

}  // namespace

TEST_CASE("webhook emitter hands the engine's events to the sink, the cluster's as decided", "[webhook_emitter]") {
  Node n;
  n.webhooks.cache_miss(n.app, "cache-news");
  n.webhooks.subscription_count(n.app, "news", 3);
  n.webhooks.emit_decided(n.app, WebhookEvent{WebhookType::ChannelVacated, "news"});
  CHECK(n.sink.lines ==
        std::vector<std::string>{"cache_miss:cache-news", "subscription_count:news", "decided channel_vacated:news"});
  CHECK(n.sink.events[1].subscription_count == 3);
}

TEST_CASE("webhook emitter's client_event carries the event, its data, sender and user", "[webhook_emitter]") {
  Node n;
  n.webhooks.client_event(n.app, "presence-room", "ann", "client-typing", "{\"a\":1}", "1.2");
  REQUIRE(n.sink.events.size() == 1);
  const WebhookEvent& e = n.sink.events[0];
  CHECK(e.type == WebhookType::ClientEvent);
  CHECK(e.user_id == "ann");
  CHECK(e.event == "client-typing");
  CHECK(e.data == "{\"a\":1}");
  CHECK(e.socket_id == "1.2");
}

TEST_CASE("webhook emitter sends nothing for an app without receivers, or without a sink", "[webhook_emitter]") {
  Node n;
  App quiet = reference_app("4");
  n.webhooks.client_event(quiet, "news", "", "client-a", "{}", "1.2");
  n.webhooks.emit_decided(quiet, WebhookEvent{WebhookType::ChannelOccupied, "news"});
  CHECK(n.sink.lines.empty());
  Hub alone{1};
  WebhookEmitter nowhere{alone};
  nowhere.cache_miss(n.app, "cache-news");  // no sink: nothing to reach, nothing fails
  CHECK(n.sink.lines.empty());
}
