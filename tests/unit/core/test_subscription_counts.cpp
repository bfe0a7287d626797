// core/subscription_counts: a channel's count announced to its subscribers and as a webhook after
// each change, none for presence channels; Redis's sum instead when the cluster can give it.
#include "core/subscription_counts.h"

#include "support.h"

using namespace raptor;
using namespace raptor::test;

namespace {

// subscription_count webhooks as "type:channel=count" (the directory's occupancy ones left out).
struct CountSink : WebhookSink {
  std::vector<std::string> events;
  void emit(const App&, WebhookEvent e) override {
    if (e.type != WebhookType::SubscriptionCount) return;
    events.push_back(std::string(webhook_type_name(e.type)) + ":" + e.channel + "=" +
                     std::to_string(e.subscription_count));
  }
  WebhookStats stats() const override { return {}; }
};

// A cluster that sums the counts itself, answering `sum`.
struct SummingBus : QuietBus {
  std::vector<size_t> asked;
  uint64_t sum = 0;
  bool announce_subscription_count(const App&, const std::string&, size_t local_count, bool,
                                   CountDone done) override {
    asked.push_back(local_count);
    done(sum);
    return true;
  }
};

// One worker whose app keeps counts for its subscribers and a receiver.
struct Counting {
  FakeClock clock;
  SubscriptionCounts::Clock now{[this] { return clock.now_ms; }};
  AppList apps;
  Hub hub{1};
  CountSink sink;
  RecordingTransport transport;
  ConnectionTable connections;
  Sender sender{transport, 1 << 20};
  ChannelTable channels;
  FanOut fan_out{channels, connections, sender};
  EventRouter router{hub, 0, fan_out, connections, [](const Delivery&) {}};
  WebhookEmitter webhooks{hub};
  SubscriptionCounts counts{apps, hub, router, webhooks, now};

  Counting() {
    App app = reference_app();
    app.subscription_count_events = true;
    app.webhooks.emplace_back();
    app.webhooks.back().types |= webhook_type_bit(WebhookType::SubscriptionCount);
    apps.push_back(std::move(app));
    hub.set_webhooks(&sink);
  }
  const App& app() { return apps.front(); }
  // A connection subscribed to `channel` here, known to the directory.
  Connection& subscriber(const std::string& channel) {
    Connection* c = connections.add(app(), nullptr, 0);
    auto& slot = channels[&app()][channel];
    if (!slot) slot = std::make_unique<Channel>(channel);
    slot->add(c, false);
    c->subscriptions().add(channel, Subscription{});
    hub.directory().subscribed(app(), channel, 0);
    counts.subscribed(app(), channel, channel_type(channel));
    return *c;
  }
};

}  // namespace

TEST_CASE("subscription counts go to the channel's subscribers and to the webhook after each subscribe",
          "[subscription_counts]") {
  Counting n;
  Connection& a = n.subscriber("news");
  auto frames = drain(a);
  REQUIRE(frames.size() == 1);
  CHECK(parse_frame(frames[0]).event == "pusher_internal:subscription_count");
  CHECK(n.sink.events == std::vector<std::string>{"subscription_count:news=1"});
  n.subscriber("news");
  CHECK(n.sink.events.back() == "subscription_count:news=2");
  CHECK(drain(a).size() == 1);
}

TEST_CASE("subscription counts are not kept for presence channels", "[subscription_counts]") {
  Counting n;
  n.subscriber("presence-room");
  CHECK(n.sink.events.empty());
}

TEST_CASE("subscription counts after the node's last subscriber left come from the cluster",
          "[subscription_counts]") {
  Counting n;
  SummingBus bus;
  bus.sum = 4;
  n.counts.set_cluster(&bus);
  n.subscriber("news");
  CHECK(bus.asked == std::vector<size_t>{1});
  CHECK(n.sink.events == std::vector<std::string>{"subscription_count:news=4"});
  n.hub.directory().unsubscribed(n.app(), "news", 0, 0);
  bus.sum = 3;
  n.counts.unsubscribed(n.app(), "news");
  CHECK(bus.asked == std::vector<size_t>{1, 0});
  CHECK(n.sink.events.back() == "subscription_count:news=3");
}
