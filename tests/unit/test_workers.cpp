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
  std::vector<App> apps{reference_app()};
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
