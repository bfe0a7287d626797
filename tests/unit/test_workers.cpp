// Two workers sharing one Hub, on one thread: the test decides when each worker's mailbox is
// handled, so the orderings that threads produce by chance are produced here on purpose.
#include "support.h"

using namespace raptor;
using namespace raptor::test;

namespace {

// A mailbox the test empties by hand.
struct QueuedMailbox : Mailbox {
  std::vector<Delivery> queue;
  void post(Delivery d) override { queue.push_back(std::move(d)); }
};

struct TwoWorkers {
  FakeClock clock;
  AppList apps{reference_app()};
  Hub hub{2};
  RecordingTransport transport[2];
  QueuedMailbox mailbox[2];
  std::unique_ptr<Engine> engine[2];

  TwoWorkers() {
    for (size_t w = 0; w < 2; ++w) {
      hub.attach(w, &mailbox[w]);
      engine[w] = std::make_unique<Engine>(apps, EngineLimits{}, transport[w], hub, w, [this] { return clock.now_ms; });
    }
  }
  const App& app() { return apps.front(); }

  Connection& connect(size_t w) {
    Connection* c = engine[w]->open(app(), nullptr);
    drain(*c);
    return *c;
  }
  // Handles what is waiting in worker w's mailbox.
  void pump(size_t w) {
    auto batch = std::move(mailbox[w].queue);
    mailbox[w].queue.clear();
    for (const auto& d : batch) engine[w]->deliver(d);
  }
  void pump_all() {
    pump(0);
    pump(1);
  }
  void send(size_t w, Connection& c, const std::string& text) { engine[w]->on_message(c, text); }
  void sign_in(size_t w, Connection& c, const std::string& user, const std::vector<std::string>& watchlist = {}) {
    send(w, c, signin_frame(app(), c.socket_id(), user_data(user, watchlist)));
  }
  void join(size_t w, Connection& c, const std::string& channel, const std::string& user) {
    std::string data = channel_data(user);
    send(w, c, subscribe_frame(channel, channel_auth(app(), c.socket_id(), channel, data), data));
  }
};

std::vector<std::string> member_events(Connection& c) {
  std::vector<std::string> out;
  for (const auto& f : drain(c)) {
    auto frame = parse_frame(f);
    if (frame.event.rfind("pusher_internal:member_", 0) == 0)
      out.push_back(frame.event.substr(23) + ":" + string_of(frame.inner.get(), "user_id"));
  }
  return out;
}

// Watchlist changes as "online:id" / "offline:id", one per entry.
std::vector<std::string> watchlist_changes(Connection& c) {
  std::vector<std::string> out;
  for (const auto& f : drain(c)) {
    auto frame = parse_frame(f);
    if (frame.event != "pusher_internal:watchlist_events") continue;
    const cJSON* entry;
    cJSON_ArrayForEach(entry, member(frame.data, "events")) {
      const cJSON* id;
      cJSON_ArrayForEach(id, member(entry, "user_ids")) out.push_back(string_of(entry, "name") + ":" + id->valuestring);
    }
  }
  return out;
}

// Signed-in users: ann with a connection on each worker, bob on worker 1.
struct AnnAndBob {
  Connection &ann0, &ann1, &bob1;
};
AnnAndBob ann_on_both_bob_on_one(TwoWorkers& t) {
  AnnAndBob u{t.connect(0), t.connect(1), t.connect(1)};
  t.sign_in(0, u.ann0, "ann");
  t.sign_in(1, u.ann1, "ann");
  t.sign_in(1, u.bob1, "bob");
  return u;
}

std::vector<std::string> events_named(Connection& c, const std::string& event) {
  std::vector<std::string> out;
  for (const auto& f : drain(c))
    if (parse_frame(f).event == event) out.push_back(f);
  return out;
}

}  // namespace

TEST_CASE("an API event reaches subscribers on every worker, except the excluded socket", "[workers]") {
  TwoWorkers t;
  Connection& a = t.connect(0);
  Connection& b = t.connect(1);
  Connection& b2 = t.connect(1);
  for (auto [w, c] : {std::pair<size_t, Connection*>{0, &a}, {1, &b}, {1, &b2}}) t.send(w, *c, subscribe_frame("news"));
  drain(a), drain(b), drain(b2);
  CHECK(t.engine[0]->directory().snapshot(t.app(), "news").subscription_count == 3);

  t.engine[0]->publish(t.app(), "news", "e", "d", b2.socket_id());
  CHECK(drain(a).size() == 1);
  CHECK(drain(b).empty());  // not yet: it sits in worker 1's mailbox
  t.pump(1);
  CHECK(drain(b) == std::vector<std::string>{"{\"event\":\"e\",\"channel\":\"news\",\"data\":\"d\"}"});
  CHECK(drain(b2).empty());
}

TEST_CASE("a worker without subscribers of a channel gets no mail for it", "[workers]") {
  TwoWorkers t;
  Connection& a = t.connect(0);
  t.send(0, a, subscribe_frame("only-here"));
  t.engine[0]->publish(t.app(), "only-here", "e", "d", "");
  CHECK(t.mailbox[1].queue.empty());
  Connection& b = t.connect(1);
  t.send(1, b, subscribe_frame("only-here"));
  t.send(1, b, unsubscribe_frame("only-here"));
  t.engine[0]->publish(t.app(), "only-here", "e", "d", "");
  CHECK(t.mailbox[1].queue.empty());
}

TEST_CASE("presence is per user across workers", "[workers][presence]") {
  TwoWorkers t;
  const std::string ch = "presence-room";
  Connection& ann0 = t.connect(0);
  Connection& watcher = t.connect(1);
  t.join(1, watcher, ch, "watcher");
  t.join(0, ann0, ch, "ann");
  t.pump_all();
  CHECK(member_events(watcher) == std::vector<std::string>{"added:ann"});

  Connection& ann1 = t.connect(1);  // ann's second tab, on the other worker
  t.join(1, ann1, ch, "ann");
  t.pump_all();
  CHECK(member_events(watcher).empty());
  CHECK(t.engine[0]->directory().snapshot(t.app(), ch).user_count == 2);

  t.engine[0]->on_closed(&ann0);
  t.pump_all();
  CHECK(member_events(watcher).empty());  // ann is still on worker 1
  t.send(1, ann1, unsubscribe_frame(ch));
  t.pump_all();
  CHECK(member_events(watcher) == std::vector<std::string>{"removed:ann"});
}

TEST_CASE("a member event already in a joiner's roster is not delivered again", "[workers][presence]") {
  TwoWorkers t;
  const std::string ch = "presence-race";
  Connection& old_member = t.connect(1);
  t.join(1, old_member, ch, "old");
  drain(old_member);
  Connection& ann = t.connect(0);
  t.join(0, ann, ch, "ann");  // member_added(ann) now waits in worker 1's mailbox
  Connection& bob = t.connect(1);
  t.join(1, bob, ch, "bob");  // bob's roster already lists ann
  auto frames = drain(bob);
  REQUIRE(!frames.empty());
  auto ok = parse_frame(frames[0]);
  CHECK(ok.event == "pusher_internal:subscription_succeeded");
  CHECK(number_of(member(ok.inner.get(), "presence"), "count") == 3);
  t.pump_all();
  CHECK(member_events(bob).empty());  // ann was in the roster: no member_added for her
  CHECK(member_events(old_member) == std::vector<std::string>{"added:ann", "added:bob"});
  CHECK(member_events(ann) == std::vector<std::string>{"added:bob"});
}

TEST_CASE("a leave that happened before a join is not announced to the joiner", "[workers][presence]") {
  TwoWorkers t;
  const std::string ch = "presence-leave";
  Connection& ann = t.connect(0);
  t.join(0, ann, ch, "ann");
  Connection& stay = t.connect(1);
  t.join(1, stay, ch, "stay");
  t.pump_all();
  drain(ann), drain(stay);
  t.engine[0]->on_closed(&ann);  // member_removed(ann) waits for worker 1
  Connection& late = t.connect(1);
  t.join(1, late, ch, "late");
  t.pump_all();
  CHECK(member_events(late).empty());
  CHECK(member_events(stay) == std::vector<std::string>{"removed:ann", "added:late"});
}

TEST_CASE("a user's join and leave on different workers reach a subscriber in that order", "[workers][presence]") {
  TwoWorkers t;
  const std::string ch = "presence-order";
  Connection& watcher = t.connect(1);
  t.join(1, watcher, ch, "watcher");
  t.pump_all();
  drain(watcher);
  Connection& ann0 = t.connect(0);
  t.join(0, ann0, ch, "ann");  // first connection: member_added, posted to both mailboxes
  Connection& ann1 = t.connect(1);
  t.join(1, ann1, ch, "ann");
  t.engine[0]->on_closed(&ann0);
  t.send(1, ann1, unsubscribe_frame(ch));  // last connection: member_removed, on worker 1
  t.pump_all();
  CHECK(member_events(watcher) == std::vector<std::string>{"added:ann", "removed:ann"});
}

TEST_CASE("#server-to-user- events reach the user's connections on every worker, only those", "[workers][users]") {
  TwoWorkers t;
  auto [ann0, ann1, bob1] = ann_on_both_bob_on_one(t);
  drain(ann0), drain(ann1), drain(bob1);
  t.engine[0]->publish(t.app(), "#server-to-user-ann", "e", "d", "");
  CHECK(drain(ann0).size() == 1);
  t.pump_all();
  CHECK(drain(ann1) == std::vector<std::string>{"{\"event\":\"e\",\"channel\":\"#server-to-user-ann\",\"data\":\"d\"}"});
  CHECK(drain(bob1).empty());
  // Bob is on worker 1 only: publishing to him from worker 0 mails worker 1 alone.
  t.engine[1]->publish(t.app(), "#server-to-user-bob", "e", "d", "");
  CHECK(t.mailbox[0].queue.empty());
  t.engine[0]->publish(t.app(), "#server-to-user-bob", "e", "d", "");
  CHECK(t.mailbox[1].queue.size() == 1);
  t.pump_all();
  CHECK(drain(bob1).size() == 2);
  // After ann's worker-1 connection closes, worker 1 gets no more of her mail.
  t.engine[1]->on_closed(&ann1);
  t.engine[0]->publish(t.app(), "#server-to-user-ann", "e", "d", "");
  CHECK(t.mailbox[1].queue.empty());
}

TEST_CASE("terminate_user closes the user's connections on every worker", "[workers][users]") {
  TwoWorkers t;
  auto [ann0, ann1, bob1] = ann_on_both_bob_on_one(t);
  t.engine[0]->terminate_user(t.app(), "ann");
  CHECK(ann0.close_code() == 4009);
  CHECK_FALSE(ann1.closing());
  t.pump_all();
  CHECK(ann1.close_code() == 4009);
  CHECK_FALSE(bob1.closing());
}

TEST_CASE("watchlist online-ness is app-wide: a user online on any worker is online", "[workers][watchlist]") {
  TwoWorkers t;
  Connection& watcher = t.connect(1);
  t.sign_in(1, watcher, "w", {"ann"});
  CHECK(watchlist_changes(watcher) == std::vector<std::string>{"offline:ann"});
  Connection& ann0 = t.connect(0);
  t.sign_in(0, ann0, "ann");
  Connection& ann1 = t.connect(1);
  t.sign_in(1, ann1, "ann");
  t.engine[0]->on_closed(&ann0);
  t.pump_all();
  CHECK(watchlist_changes(watcher) == std::vector<std::string>{"online:ann"});  // still on worker 1
  t.engine[1]->on_closed(&ann1);
  t.pump_all();
  CHECK(watchlist_changes(watcher) == std::vector<std::string>{"offline:ann"});
}

TEST_CASE("a watchlist change already in a watcher's initial statuses is not sent again", "[workers][watchlist]") {
  TwoWorkers t;
  Connection& old_watcher = t.connect(1);
  t.sign_in(1, old_watcher, "old", {"ann"});
  drain(old_watcher);
  Connection& ann = t.connect(0);
  t.sign_in(0, ann, "ann");  // online(ann) now waits in worker 1's mailbox
  Connection& late = t.connect(1);
  t.sign_in(1, late, "late", {"ann"});
  CHECK(watchlist_changes(late) == std::vector<std::string>{"online:ann"});  // in its statuses
  t.pump_all();
  CHECK(watchlist_changes(late).empty());
  CHECK(watchlist_changes(old_watcher) == std::vector<std::string>{"online:ann"});
  t.engine[0]->on_closed(&ann);
  t.pump_all();
  CHECK(watchlist_changes(late) == std::vector<std::string>{"offline:ann"});
}

TEST_CASE("subscription counts from two workers reach every subscriber in one order", "[workers][count]") {
  TwoWorkers t;
  t.apps.front().subscription_count_events = true;
  auto counts = [](Connection& c) {
    std::vector<int> out;
    for (const auto& f : events_named(c, "pusher_internal:subscription_count"))
      out.push_back(int(number_of(parse_frame(f).data, "subscription_count")));
    return out;
  };
  Connection& a = t.connect(0);
  Connection& b = t.connect(1);
  t.send(0, a, subscribe_frame("room"));
  t.send(1, b, subscribe_frame("room"));
  t.pump(1);  // worker 1 first: the order is the directory's, not the mailboxes'
  t.pump(0);
  CHECK(counts(a) == std::vector<int>{1, 2});
  CHECK(counts(b) == std::vector<int>{2});  // b joined when the count became 2
  t.send(0, a, unsubscribe_frame("room"));
  t.pump_all();
  CHECK(counts(b) == std::vector<int>{1});
  CHECK(counts(a).empty());
}

namespace {

// Records what the core emits, as "name:channel[:user_id]".
struct RecordingSink : WebhookSink {
  std::vector<std::string> events;
  std::vector<WebhookEvent> raw;
  void emit(const App&, WebhookEvent e) override {
    std::string s = std::string(webhook_type_name(e.type)) + ":" + e.channel;
    if (!e.user_id.empty()) s += ":" + e.user_id;
    events.push_back(s);
    raw.push_back(std::move(e));
  }
  WebhookStats stats() const override { return {}; }
  std::vector<std::string> take() {
    raw.clear();
    return std::exchange(events, {});
  }
};

struct TwoWorkersWithWebhooks : TwoWorkers {
  RecordingSink sink;
  TwoWorkersWithWebhooks() {
    apps[0].webhooks.emplace_back();
    hub.set_webhooks(&sink);
  }
};

}  // namespace

TEST_CASE("channel_occupied and channel_vacated are app-wide: first subscription in, last out", "[workers][webhooks]") {
  TwoWorkersWithWebhooks t;
  Connection& a = t.connect(0);
  Connection& b = t.connect(1);
  t.send(0, a, subscribe_frame("news"));
  t.send(1, b, subscribe_frame("news"));
  CHECK(t.sink.take() == std::vector<std::string>{"channel_occupied:news"});
  t.send(0, a, unsubscribe_frame("news"));
  CHECK(t.sink.take().empty());
  t.engine[1]->on_closed(&b);
  CHECK(t.sink.take() == std::vector<std::string>{"channel_vacated:news"});
}

TEST_CASE("member_added and member_removed for a user's first and last connection on any worker",
          "[workers][webhooks][presence]") {
  TwoWorkersWithWebhooks t;
  const std::string ch = "presence-room";
  Connection& ann0 = t.connect(0);
  Connection& ann1 = t.connect(1);
  t.join(0, ann0, ch, "ann");
  t.join(1, ann1, ch, "ann");
  CHECK(t.sink.take() == std::vector<std::string>{"channel_occupied:" + ch, "member_added:" + ch + ":ann"});
  t.engine[0]->on_closed(&ann0);
  CHECK(t.sink.take().empty());
  t.engine[1]->on_closed(&ann1);
  CHECK(t.sink.take() == std::vector<std::string>{"member_removed:" + ch + ":ann", "channel_vacated:" + ch});
}

TEST_CASE("client events, cache misses and (when wanted) subscription counts are emitted", "[workers][webhooks]") {
  TwoWorkersWithWebhooks t;
  Connection& a = t.connect(0);
  Connection& b = t.connect(1);
  t.join(0, a, "presence-chat", "ann");
  t.join(1, b, "presence-chat", "bob");
  t.sink.take();
  t.send(0, a, client_event_frame("client-hi", "presence-chat", R"({"x":1})"));
  REQUIRE(t.sink.raw.size() == 1);
  const WebhookEvent& e = t.sink.raw.back();
  CHECK(e.type == WebhookType::ClientEvent);
  CHECK(e.event == "client-hi");
  CHECK(e.data == R"({"x":1})");
  CHECK(e.socket_id == a.socket_id());
  CHECK(e.user_id == "ann");
  t.sink.take();

  t.send(1, b, subscribe_frame("cache-x"));
  CHECK(t.sink.take() == std::vector<std::string>{"channel_occupied:cache-x", "cache_miss:cache-x"});
  t.engine[0]->publish(t.app(), "cache-x", "e", "d", "");
  t.send(0, a, subscribe_frame("cache-x"));
  CHECK(t.sink.take().empty());  // a hit: no cache_miss

  t.apps[0].webhooks[0].types = webhook_type_bit(WebhookType::SubscriptionCount);
  drain(a);
  t.send(0, a, subscribe_frame("counted"));
  t.send(1, b, subscribe_frame("counted"));
  REQUIRE(t.sink.raw.size() == 3);
  CHECK(t.sink.raw.back().subscription_count == 2);
  CHECK(t.sink.take() == std::vector<std::string>{"channel_occupied:counted", "subscription_count:counted",
                                                  "subscription_count:counted"});
  // The app did not ask for count events: its clients get none.
  CHECK(events_of(drain(a)) == std::vector<std::string>{"pusher_internal:subscription_succeeded"});
}

TEST_CASE("an app without webhook receivers emits nothing", "[workers][webhooks]") {
  TwoWorkers t;
  RecordingSink sink;
  t.hub.set_webhooks(&sink);
  Connection& a = t.connect(0);
  t.join(0, a, "presence-chat", "ann");
  t.send(0, a, client_event_frame("client-hi", "presence-chat", "{}"));
  t.engine[0]->on_closed(&a);
  CHECK(sink.events.empty());
}
