// A configuration reload's logic without the network: which settings need a restart, apps
// updated in place (connections keep pointing at them), retired and re-added, the connections of
// a removed app closed with 4001, and the pause that keeps workers off the shared state.
#include <atomic>
#include <thread>

#include "common/rendezvous.h"
#include "config/reload.h"
#include "support.h"

using namespace raptor;
using namespace raptor::test;

TEST_CASE("a reload keeps restart-only settings and names each", "[reload]") {
  Config running;
  running.workers = 2;
  Config next = running;
  next.host = "0.0.0.0";
  next.port = 7001;
  next.workers = 4;
  next.event_loop = Config::EventLoop::Poll;
  next.compression = true;
  next.proxy_protocol = true;
  next.tls_cert = "/etc/cert.pem";
  next.tls_key = "/etc/key.pem";
  next.limits.activity_timeout_s = 60;  // live: not kept
  auto kept = keep_restart_only(running, next);
  CHECK(kept == std::vector<std::string>{
                    "listen address changed from \"127.0.0.1\" to \"0.0.0.0\", which needs a restart: still \"127.0.0.1\"",
                    "listen port changed from 6001 to 7001, which needs a restart: still 6001",
                    "tls turned on, which needs a restart: still off",
                    "workers changed from 2 to 4, which needs a restart: still 2",
                    "event_loop changed from :epoll to :poll, which needs a restart: still :epoll",
                    "compression changed from false to true, which needs a restart: still false",
                    "proxy_protocol changed from false to true, which needs a restart: still false",
                });
  CHECK(next.host == "127.0.0.1");
  CHECK(next.port == 6001);
  CHECK(next.workers == 2);
  CHECK(next.event_loop == Config::EventLoop::Epoll);
  CHECK_FALSE(next.compression);
  CHECK_FALSE(next.proxy_protocol);
  CHECK(next.tls_cert.empty());
  CHECK(next.limits.activity_timeout_s == 60);
  CHECK(keep_restart_only(running, next).empty());
}

TEST_CASE("a reload changes the TLS files and policy live, but not TLS on or off", "[reload]") {
  Config running;
  running.tls_cert = "/etc/raptor/cert.pem";
  running.tls_key = "/etc/raptor/key.pem";
  Config next = running;
  next.tls_cert = "/etc/raptor/renewed-cert.pem";
  next.tls_key = "/etc/raptor/renewed-key.pem";
  next.tls_min_version = TlsVersion::kTls13;
  next.tls_ciphers = "ECDHE-RSA-AES256-GCM-SHA384";
  CHECK(keep_restart_only(running, next).empty());
  CHECK(live_changes(running, next) ==
        std::vector<std::string>{"tls cert \"/etc/raptor/cert.pem\" -> \"/etc/raptor/renewed-cert.pem\"",
                                 "tls key \"/etc/raptor/key.pem\" -> \"/etc/raptor/renewed-key.pem\"",
                                 "tls min_version \"1.2\" -> \"1.3\"", "tls ciphers changed"});
  Config off = running;
  off.tls_cert.clear();
  off.tls_key.clear();
  CHECK(keep_restart_only(running, off) ==
        std::vector<std::string>{"tls turned off, which needs a restart: still on"});
  CHECK(off.tls_cert == running.tls_cert);
  CHECK(off.tls_key == running.tls_key);
}

TEST_CASE("a reload keeps the node's Redis settings and its id", "[reload]") {
  Config running;
  running.cluster.redis = RedisAddress{"127.0.0.1", 6379, 0, "", ""};
  running.cluster.node_id = "node-a";
  Config next = running;
  next.cluster.node_id = "node-generated-again";  // a generated id is new on every read
  CHECK(keep_restart_only(running, next).empty());
  CHECK(next.cluster.node_id == "node-a");
  next.cluster.redis->port = 6380;
  next.cluster.prefix = "other:";
  CHECK(keep_restart_only(running, next) ==
        std::vector<std::string>{"redis settings changed, which needs a restart: still the old ones"});
  CHECK(next.cluster.redis->port == 6379);
  CHECK(next.cluster.prefix == "raptor:");
  next.cluster.redis.reset();
  CHECK(keep_restart_only(running, next).size() == 1);
  CHECK(next.cluster.redis);
}

TEST_CASE("a reload reports the live settings it changes", "[reload]") {
  Config running;
  Config next = running;
  CHECK(live_changes(running, next).empty());
  next.limits.pong_timeout_s = 10;
  next.max_message_bytes = 2048;
  next.hook_time_budget_ms = 20;
  next.drain_seconds = 30;
  CHECK(live_changes(running, next) == std::vector<std::string>{"pong_timeout 30 -> 10", "max_message_size 65536 -> 2048",
                                                                "hook_time_budget 50 -> 20", "drain_seconds 10 -> 30"});
}

TEST_CASE("apps are updated in place, added, retired and brought back", "[reload]") {
  AppList live{reference_app("a"), reference_app("b")};
  live[1].key = "key-b";
  const App* a = &live[0];
  const App* b = &live[1];

  std::vector<App> next{reference_app("a"), reference_app("c")};
  next[0].secret = "new-secret";
  next[0].client_events_per_second = 5;
  next[1].key = "key-c";
  AppChanges changes = update_apps(live, next);
  CHECK(changes.added == std::vector<std::string>{"c"});
  CHECK(changes.removed == std::vector<std::string>{"b"});
  CHECK(changes.changed == std::vector<std::string>{"a (secret, client_events_per_second)"});
  CHECK(describe(changes) == "apps: added c; removed b; changed a (secret, client_events_per_second)");
  REQUIRE(live.size() == 3);
  CHECK(&live[0] == a);  // the same object: connections keep their reference
  CHECK(a->secret == "new-secret");
  CHECK(b->retired);
  CHECK_FALSE(live[2].retired);

  // Back under its id: the same object again, served.
  std::vector<App> again{reference_app("a"), reference_app("b")};
  again[1].key = "key-b";
  changes = update_apps(live, again);
  CHECK(changes.added == std::vector<std::string>{"b"});
  CHECK(changes.removed == std::vector<std::string>{"c"});
  CHECK(changes.changed == std::vector<std::string>{"a (secret, client_events_per_second)"});
  CHECK(&live[1] == b);
  CHECK_FALSE(b->retired);
  CHECK(live.size() == 3);
  CHECK(describe(update_apps(live, again)) == "apps unchanged");
}

TEST_CASE("a retired app is not served: its connections are closed with 4001", "[reload]") {
  EngineHarness h({reference_app("a"), reference_app("b")});
  h.apps[1].key = "key-b";
  const App& b = h.apps[1];
  Connection& stays = h.connect(&h.apps[0]);
  Connection& goes = h.connect(&b);
  h.join_ok(goes, "news");
  CHECK(h.engine.close_retired() == 0);

  std::vector<App> next{h.apps[0]};
  update_apps(h.apps, next);
  CHECK(h.engine.app_by_key("key-b") == nullptr);
  CHECK(h.engine.app_by_id("b") == nullptr);
  CHECK(h.engine.admit("/app/key-b", "7").close_code == 4001);
  CHECK(h.engine.close_retired() == 1);
  CHECK(goes.closing());
  CHECK(goes.close_code() == 4001);
  auto frames = drain(goes);
  REQUIRE(frames.size() == 1);
  require_error(frames[0], 4001);
  CHECK_FALSE(stays.closing());
  CHECK(h.engine.close_retired() == 0);  // once
}

TEST_CASE("new limits apply to the connections already open", "[reload]") {
  EngineHarness h;
  Connection& c = h.connect();
  EngineLimits limits;
  limits.activity_timeout_s = 10;
  h.engine.set_limits(limits);
  h.clock.now_ms += 10'000;
  h.engine.tick();
  CHECK(events_of(drain(c)) == std::vector<std::string>{"pusher:ping"});
}

TEST_CASE("changed app settings apply to the connections already open", "[reload]") {
  EngineHarness h;
  Connection& c = h.connect();
  h.join_ok(c, "private-room");
  std::vector<App> next{h.apps[0]};
  next[0].client_events = false;
  next[0].secret = "renewed";
  update_apps(h.apps, next);
  h.send(c, client_event_frame("client-hi", "private-room", "{}"));
  auto frames = drain(c);
  REQUIRE(frames.size() == 1);
  require_error(frames[0], 4306);
  // Signed with the new secret.
  CHECK(events_of(h.join(c, "private-other")) == std::vector<std::string>{"pusher_internal:subscription_succeeded"});
}

TEST_CASE("a rendezvous holds every party until released", "[reload]") {
  constexpr int kParties = 4;
  Rendezvous pause(kParties);
  std::atomic<int> shared{0}, seen_changed{0};
  std::vector<std::thread> parties;
  for (int i = 0; i < kParties; ++i)
    parties.emplace_back([&] {
      pause.arrive_and_wait();
      if (shared.load() == 42) ++seen_changed;
      pause.finish();
    });
  REQUIRE(pause.wait_arrived(std::chrono::seconds(60)));
  shared = 42;  // no party runs now
  pause.release();
  pause.wait_finished();
  CHECK(seen_changed == kParties);
  for (auto& t : parties) t.join();
}

// A party stuck elsewhere (a worker in a long hook) must not keep the others paused.
TEST_CASE("a rendezvous gives up on a party that does not arrive in time", "[reload]") {
  Rendezvous pause(2);
  std::thread arrived([&] {
    pause.arrive_and_wait();
    pause.finish();
  });
  CHECK_FALSE(pause.wait_arrived(std::chrono::milliseconds(20)));
  pause.release();  // the one that arrived goes on
  arrived.join();
  pause.arrive_and_wait();  // the late one is not held either
  pause.finish();
}
