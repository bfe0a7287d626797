// The engine's user features on one worker: pusher:signin and its refusals, #server-to-user-
// events and subscriptions, watchlist statuses and changes, terminating a user's connections,
// and the authorized-connections time limit.
#include "core/engine.h"

#include "support.h"

using namespace raptor;
using namespace raptor::test;

namespace {

// The watchlist_events frame's entries as "online:a,b" / "offline:c".
std::vector<std::string> watchlist_entries(const std::string& frame) {
  auto f = parse_frame(frame);
  REQUIRE(f.event == "pusher_internal:watchlist_events");
  CHECK_FALSE(f.channel);
  REQUIRE(cJSON_IsObject(f.data));  // an object, as pusher-js reads data.events
  std::vector<std::string> out;
  const cJSON* entry;
  cJSON_ArrayForEach(entry, member(f.data, "events")) {
    std::string line = string_of(entry, "name") + ":";
    const cJSON* id;
    cJSON_ArrayForEach(id, member(entry, "user_ids")) line += std::string(id->valuestring) + ",";
    out.push_back(line.substr(0, line.size() - 1));
  }
  return out;
}

std::string user_event(const std::string& user, const std::string& data = "d") {
  return "{\"event\":\"e\",\"channel\":\"#server-to-user-" + user + "\",\"data\":\"" + data + "\"}";
}

// Two connections signed in as ann, one as bob.
struct AnnAndBob {
  Connection &ann1, &ann2, &bob;
};
AnnAndBob ann_twice_and_bob(EngineHarness& h) {
  AnnAndBob u{h.connect(), h.connect(), h.connect()};
  h.sign_in(u.ann1, "ann");
  h.sign_in(u.ann2, "ann");
  h.sign_in(u.bob, "bob");
  return u;
}

}  // namespace

TEST_CASE("signin with key:HMAC(socket_id::user::user_data) answers signin_success", "[users][signin]") {
  EngineHarness h;
  Connection& c = h.connect();
  std::string data = "{\"id\":\"ann\",\"user_info\":{\"name\":\"Ann\"}}";
  h.send(c, signin_frame(h.app(), c.socket_id(), data));
  auto frames = drain(c);
  REQUIRE(frames.size() == 1);
  // user_data goes back byte for byte, as a string inside the data object.
  CHECK(frames[0] == "{\"event\":\"pusher:signin_success\",\"data\":{\"user_data\":\"{\\\"id\\\":\\\"ann\\\","
                     "\\\"user_info\\\":{\\\"name\\\":\\\"Ann\\\"}}\"}}");
  REQUIRE(c.user() != nullptr);
  CHECK(c.user()->id == "ann");
  CHECK(c.authorized());
}

TEST_CASE("signin refusals: 4300 malformed, 4304 bad signature, 4308 bad user_data", "[users][signin]") {
  EngineHarness h;
  Connection& c = h.connect();
  const App& app = h.app();
  SECTION("no auth, no user_data, data not an object, user_data not a string") {
    for (std::string frame : {std::string("{\"event\":\"pusher:signin\"}"),
                              std::string("{\"event\":\"pusher:signin\",\"data\":\"x\"}"),
                              std::string("{\"event\":\"pusher:signin\",\"data\":{\"auth\":\"k:s\"}}"),
                              std::string("{\"event\":\"pusher:signin\",\"data\":{\"user_data\":\"{}\"}}"),
                              std::string("{\"event\":\"pusher:signin\",\"data\":{\"auth\":\"k:s\",\"user_data\":{\"id\":\"a\"}}}")}) {
      INFO(frame);
      h.send(c, frame);
      auto frames = drain(c);
      REQUIRE(frames.size() == 1);
      require_error(frames[0], 4300);
    }
  }
  SECTION("signatures over something else") {
    std::string data = user_data("ann");
    for (std::string auth : {user_auth(app, "1.2", data), user_auth(app, c.socket_id(), user_data("bob")),
                             app.key + ":" + signature::hmac_sha256_hex(app.secret, c.socket_id() + ":" + data),
                             std::string("wrong-key:") + user_auth(app, c.socket_id(), data).substr(app.key.size() + 1),
                             std::string(""), std::string("no-colon")}) {
      INFO(auth);
      h.send(c, signin_frame(app, c.socket_id(), data, auth));
      auto frames = drain(c);
      REQUIRE(frames.size() == 1);
      require_error(frames[0], 4304);
    }
  }
  SECTION("user_data that is signed but not acceptable") {
    for (std::string data : {std::string("{\"id\":"), std::string("[\"ann\"]"), std::string("\"ann\""),
                             std::string("{}"), std::string("{\"id\":42}"), std::string("{\"id\":\"\"}"),
                             std::string("{\"id\":\"a b\"}"), std::string("{\"id\":\"#x\"}"),
                             "{\"id\":\"" + std::string(129, 'u') + "\"}",
                             "{\"id\":\"a\",\"user_info\":{\"p\":\"" + std::string(1020, 'x') + "\"}}",
                             std::string("{\"id\":\"a\",\"watchlist\":\"b\"}"),
                             std::string("{\"id\":\"a\",\"watchlist\":[\"b\",7]}"),
                             std::string("{\"id\":\"a\",\"watchlist\":[\"b c\"]}")}) {
      INFO(data);
      h.send(c, signin_frame(app, c.socket_id(), data));
      auto frames = drain(c);
      REQUIRE(frames.size() == 1);
      require_error(frames[0], 4308);
    }
  }
  // Whatever was refused, the connection is not signed in, and stays open.
  CHECK(c.user() == nullptr);
  CHECK_FALSE(c.authorized());
  CHECK_FALSE(c.closing());
  h.engine.publish(app, "#server-to-user-ann", "e", "d", "");
  CHECK(drain(c).empty());
}

TEST_CASE("the limits of user_data: 128-character id, 1 KiB user_info", "[users][signin]") {
  EngineHarness h;
  Connection& a = h.connect();
  Connection& b = h.connect();
  std::string id(128, 'u');
  CHECK(events_of(h.sign_in(a, id)) == std::vector<std::string>{"pusher:signin_success"});
  std::string info = "{\"p\":\"" + std::string(1024 - 8, 'x') + "\"}";
  REQUIRE(info.size() == 1024);
  h.send(b, signin_frame(h.app(), b.socket_id(), "{\"id\":\"b\",\"user_info\":" + info + "}"));
  CHECK(events_of(drain(b)) == std::vector<std::string>{"pusher:signin_success"});
}

TEST_CASE("signing in again: the same user is acknowledged, another user is refused with 4309", "[users][signin]") {
  EngineHarness h;
  Connection& c = h.connect();
  h.sign_in(c, "ann");
  CHECK(events_of(h.sign_in(c, "ann")) == std::vector<std::string>{"pusher:signin_success"});
  auto frames = h.sign_in(c, "bob");
  REQUIRE(frames.size() == 1);
  require_error(frames[0], 4309);
  CHECK(c.user()->id == "ann");
  h.engine.publish(h.app(), "#server-to-user-bob", "e", "d", "");
  CHECK(drain(c).empty());
  h.engine.publish(h.app(), "#server-to-user-ann", "e", "d", "");
  CHECK(drain(c).size() == 1);
}

TEST_CASE("#server-to-user- events reach every connection of that user and only those", "[users][server-to-user]") {
  EngineHarness h;
  auto [ann1, ann2, bob] = ann_twice_and_bob(h);
  Connection& anonymous = h.connect();
  // Even a socket that tried to subscribe by name gets nothing.
  h.send(anonymous, subscribe_frame("#server-to-user-ann"));
  require_refused(drain(anonymous), "#server-to-user-ann", "AuthError", 401, 4304);
  h.send(bob, subscribe_frame("#server-to-user-ann"));
  require_refused(drain(bob), "#server-to-user-ann", "AuthError", 401, 4304);

  h.engine.publish(h.app(), "#server-to-user-ann", "e", "d", "");
  CHECK(drain(ann1) == std::vector<std::string>{user_event("ann")});
  CHECK(drain(ann2) == std::vector<std::string>{user_event("ann")});
  CHECK(drain(bob).empty());
  CHECK(drain(anonymous).empty());

  SECTION("socket_id excludes one of them") {
    h.engine.publish(h.app(), "#server-to-user-ann", "e", "d", ann2.socket_id());
    CHECK(drain(ann1).size() == 1);
    CHECK(drain(ann2).empty());
  }
  SECTION("a closed connection is forgotten") {
    h.engine.on_closed(&ann1);
    h.engine.publish(h.app(), "#server-to-user-ann", "e", "d", "");
    CHECK(drain(ann2).size() == 1);
  }
  SECTION("users of another app with the same id are other users") {
    EngineHarness two({reference_app(), App{"4", "second-key", "second-secret"}});
    Connection& here = two.connect();
    Connection& there = two.connect(&two.app("second-key"));
    two.sign_in(here, "ann");
    two.sign_in(there, "ann");
    two.engine.publish(two.app(), "#server-to-user-ann", "e", "d", "");
    CHECK(drain(here).size() == 1);
    CHECK(drain(there).empty());
  }
}

TEST_CASE("a signed-in connection's subscribe to its own user channel is acknowledged", "[users][server-to-user]") {
  EngineHarness h;
  Connection& c = h.connect();
  h.sign_in(c, "ann");
  h.send(c, subscribe_frame("#server-to-user-ann"));
  CHECK(drain(c) == std::vector<std::string>{
                        "{\"event\":\"pusher_internal:subscription_succeeded\",\"channel\":\"#server-to-user-ann\","
                        "\"data\":\"{}\"}"});
  // Not a channel in the directory: events go by sign-in.
  CHECK(h.engine.directory().occupied(h.app(), "").empty());
  h.send(c, unsubscribe_frame("#server-to-user-ann"));  // ignored
  h.engine.publish(h.app(), "#server-to-user-ann", "e", "d", "");
  CHECK(drain(c).size() == 1);
  // A prefix of the id is another user.
  h.send(c, subscribe_frame("#server-to-user-an"));
  require_refused(drain(c), "#server-to-user-an", "AuthError", 401, 4304);
}

TEST_CASE("watchlist: statuses at sign-in, then online and offline changes", "[users][watchlist]") {
  EngineHarness h;
  Connection& ann = h.connect();
  h.sign_in(ann, "ann");
  Connection& watcher = h.connect();
  auto frames = h.sign_in(watcher, "w", {"ann", "bob", "cid"});
  REQUIRE(frames.size() == 2);
  CHECK(parse_frame(frames[0]).event == "pusher:signin_success");
  CHECK(watchlist_entries(frames[1]) == std::vector<std::string>{"online:ann", "offline:bob,cid"});
  CHECK(frames[1] == "{\"event\":\"pusher_internal:watchlist_events\",\"data\":{\"events\":[{\"name\":\"online\","
                     "\"user_ids\":[\"ann\"]},{\"name\":\"offline\",\"user_ids\":[\"bob\",\"cid\"]}]}}");

  Connection& bob1 = h.connect();
  h.sign_in(bob1, "bob");
  auto online = drain(watcher);
  REQUIRE(online.size() == 1);
  CHECK(watchlist_entries(online[0]) == std::vector<std::string>{"online:bob"});
  Connection& bob2 = h.connect();
  h.sign_in(bob2, "bob");
  CHECK(drain(watcher).empty());  // already online
  h.engine.on_closed(&bob1);
  CHECK(drain(watcher).empty());  // still online on bob2
  h.engine.on_closed(&bob2);
  auto offline = drain(watcher);
  REQUIRE(offline.size() == 1);
  CHECK(watchlist_entries(offline[0]) == std::vector<std::string>{"offline:bob"});
  // Users who are not watched, and watchers who left, get nothing.
  CHECK(drain(ann).empty());
  h.engine.on_closed(&watcher);
  h.engine.on_closed(&ann);
}

TEST_CASE("watchlist: no event when there is no watchlist, and an all-offline list", "[users][watchlist]") {
  EngineHarness h;
  Connection& c = h.connect();
  CHECK(events_of(h.sign_in(c, "solo")) == std::vector<std::string>{"pusher:signin_success"});
  Connection& d = h.connect();
  auto frames = h.sign_in(d, "d", {"x", "x", "y"});  // duplicates count once
  REQUIRE(frames.size() == 2);
  CHECK(watchlist_entries(frames[1]) == std::vector<std::string>{"offline:x,y"});
}

TEST_CASE("watchlist: more than 100 ids: the first 100 count, 4302 says so", "[users][watchlist]") {
  EngineHarness h;
  std::vector<std::string> ids;
  for (int i = 0; i < 101; ++i) ids.push_back("u" + std::to_string(i));
  Connection& watcher = h.connect();
  auto frames = h.sign_in(watcher, "w", ids);
  REQUIRE(frames.size() == 3);
  CHECK(parse_frame(frames[0]).event == "pusher:signin_success");
  require_error(frames[1], 4302);
  auto entries = watchlist_entries(frames[2]);
  REQUIRE(entries.size() == 1);
  CHECK(std::count(entries[0].begin(), entries[0].end(), ',') == 99);  // 100 ids
  CHECK(watcher.user()->watchlist.size() == 100);
  CHECK_FALSE(watcher.closing());

  Connection& last = h.connect();
  h.sign_in(last, "u100");  // the 101st: not watched
  CHECK(drain(watcher).empty());
  Connection& first = h.connect();
  h.sign_in(first, "u0");
  CHECK(drain(watcher).size() == 1);
}

TEST_CASE("terminate_user closes that user's connections with 4009, no one else's", "[users][terminate]") {
  EngineHarness h;
  auto [ann1, ann2, bob] = ann_twice_and_bob(h);
  Connection& presence_ann = h.connect();  // "ann" in presence only: not signed in
  h.join_ok(presence_ann, "presence-room", channel_data("ann"));
  h.engine.terminate_user(h.app(), "ann");
  for (Connection* c : {&ann1, &ann2}) {
    CHECK(c->closing());
    CHECK(c->close_code() == 4009);
    auto frames = drain(*c);
    REQUIRE(frames.size() == 1);
    require_error(frames[0], 4009);
  }
  CHECK_FALSE(bob.closing());
  CHECK_FALSE(presence_ann.closing());
  h.engine.terminate_user(h.app(), "nobody");  // no connections: nothing happens
  CHECK_FALSE(bob.closing());
}

TEST_CASE("authorized connections: anonymous connections are closed with 4009 after the limit", "[users][authorized]") {
  App app = reference_app();
  app.user_authentication_timeout_s = 30;
  EngineHarness h({app});
  Connection& anonymous = h.connect();
  Connection& public_only = h.connect();
  Connection& signed_in = h.connect();
  Connection& private_sub = h.connect();
  Connection& presence_sub = h.connect();
  Connection& refused = h.connect();
  h.join_ok(public_only, "news");
  h.sign_in(signed_in, "ann");
  h.join_ok(private_sub, "private-x");
  h.join_ok(presence_sub, "presence-x", channel_data("p"));
  h.send(refused, subscribe_frame("private-x", "bad:sig"));
  drain(refused);

  h.clock.advance(29'999);
  h.engine.tick();
  for (Connection* c : {&anonymous, &public_only, &refused}) CHECK_FALSE(c->closing());
  h.clock.advance(1);
  h.engine.tick();
  for (Connection* c : {&anonymous, &public_only, &refused}) {
    CHECK(c->close_code() == 4009);
    auto frames = drain(*c);
    REQUIRE(frames.size() == 1);
    require_error(frames[0], 4009);
  }
  for (Connection* c : {&signed_in, &private_sub, &presence_sub}) CHECK_FALSE(c->closing());
  // Authorized once is enough, even after leaving the private channel.
  h.send(private_sub, unsubscribe_frame("private-x"));
  h.clock.advance(60'000);
  h.engine.tick();
  CHECK_FALSE(private_sub.closing());
}

TEST_CASE("authorized connections are off by default", "[users][authorized]") {
  EngineLimits limits;
  limits.activity_timeout_s = 3600;  // no pings in the way
  EngineHarness h({reference_app()}, limits);
  Connection& c = h.connect();
  h.clock.advance(600'000);
  h.engine.tick();
  CHECK_FALSE(c.closing());
}
