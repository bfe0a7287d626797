// Helpers shared by the unit tests: the reference credentials, a strict JSON reader for the
// frames and bodies the server produces, client frames built with cJSON (not with the code
// under test), channel-auth and HTTP-API signers, and an engine harness with a fake clock and a
// transport that records wakes, and two workers sharing a Hub whose mailboxes the test empties.
#pragma once
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/engine.h"
#include "core/policy.h"
#include "http/request.h"
#include "protocol/json.h"
#include "protocol/signature.h"

namespace raptor::test {

// A Policy with no opinion on anything; a test overrides has() and the questions it answers.
struct PassingPolicy : Policy {
  PolicyVerdict admit(const App&, const Handshake&) override { return {}; }
  PolicyVerdict authorize(const SubscriptionRequest&) override { return {}; }
  PolicyVerdict filter_client_event(const ClientEventRequest&) override { return {}; }
  PolicyVerdict permit(const PermissionRequest&) override { return {}; }
  PolicyVerdict shape_webhook(const WebhookShapeRequest&) override { return {}; }
};

// The credentials of the Pusher docs' examples (reference §2.7, §3.3).
constexpr const char* kRefKey = "278d425bdf160c739803";
constexpr const char* kRefSecret = "7ad3773142a6692b25b8";

inline App reference_app(std::string id = "3") { return App{std::move(id), kRefKey, kRefSecret}; }

// ---------------------------------------------------------------- JSON

// Parses a whole document: fails the test on malformed JSON or trailing bytes.
inline json::Ptr strict_parse(const std::string& text) {
  const char* end = nullptr;
  json::Ptr root(cJSON_ParseWithOpts(text.c_str(), &end, 1));
  INFO("JSON text: " << text);
  REQUIRE(root != nullptr);
  return root;
}

inline const cJSON* member(const cJSON* obj, const char* key) {
  const cJSON* item = cJSON_GetObjectItemCaseSensitive(obj, key);
  INFO("missing member " << key);
  REQUIRE(item != nullptr);
  return item;
}

inline std::string string_of(const cJSON* obj, const char* key) {
  const cJSON* item = member(obj, key);
  REQUIRE(cJSON_IsString(item));
  return item->valuestring;
}

inline double number_of(const cJSON* obj, const char* key) {
  const cJSON* item = member(obj, key);
  REQUIRE(cJSON_IsNumber(item));
  return item->valuedouble;
}

// A server frame read back: the outer object and, when `data` is a string, its decoded JSON.
struct ParsedFrame {
  json::Ptr root;
  std::string event;
  std::optional<std::string> channel;
  const cJSON* data = nullptr;
  json::Ptr inner;  // data decoded when it is a JSON string holding JSON

  const cJSON* payload() const { return inner ? inner.get() : data; }
};

inline ParsedFrame parse_frame(const std::string& text) {
  ParsedFrame f;
  f.root = strict_parse(text);
  REQUIRE(cJSON_IsObject(f.root.get()));
  f.event = string_of(f.root.get(), "event");
  if (const cJSON* ch = cJSON_GetObjectItemCaseSensitive(f.root.get(), "channel")) {
    REQUIRE(cJSON_IsString(ch));
    f.channel = ch->valuestring;
  }
  f.data = cJSON_GetObjectItemCaseSensitive(f.root.get(), "data");
  if (cJSON_IsString(f.data)) f.inner.reset(cJSON_Parse(f.data->valuestring));
  return f;
}

// ---------------------------------------------------------------- expected server frames

// The frame must be a pusher:error carrying `code` and a message.
inline void require_error(const std::string& frame, int code) {
  INFO("frame: " << frame);
  auto f = parse_frame(frame);
  REQUIRE(f.event == "pusher:error");
  REQUIRE(cJSON_IsObject(f.data));
  CHECK(number_of(f.data, "code") == code);
  CHECK_FALSE(string_of(f.data, "message").empty());
}

// A refused subscription: pusher:error `code`, then pusher:subscription_error for the channel.
inline void require_refused(const std::vector<std::string>& frames, const std::string& channel, const std::string& type,
                     int status, int code) {
  REQUIRE(frames.size() == 2);
  require_error(frames[0], code);
  auto f = parse_frame(frames[1]);
  CHECK(f.event == "pusher:subscription_error");
  CHECK(f.channel.value_or("") == channel);
  REQUIRE(cJSON_IsObject(f.data));
  CHECK(string_of(f.data, "type") == type);
  CHECK(number_of(f.data, "status") == status);
  CHECK(number_of(f.data, "code") == code);
}

// ---------------------------------------------------------------- client frames

inline std::string print_and_free(cJSON* root) {
  char* s = cJSON_PrintUnformatted(root);
  std::string out(s);
  cJSON_free(s);
  cJSON_Delete(root);
  return out;
}

inline std::string subscribe_frame(const std::string& channel, const std::optional<std::string>& auth = std::string(),
                                   const std::optional<std::string>& channel_data = std::nullopt) {
  cJSON* root = cJSON_CreateObject();
  cJSON_AddStringToObject(root, "event", "pusher:subscribe");
  cJSON* data = cJSON_AddObjectToObject(root, "data");
  cJSON_AddStringToObject(data, "channel", channel.c_str());
  if (auth) cJSON_AddStringToObject(data, "auth", auth->c_str());
  if (channel_data) cJSON_AddStringToObject(data, "channel_data", channel_data->c_str());
  return print_and_free(root);
}

inline std::string unsubscribe_frame(const std::string& channel) {
  cJSON* root = cJSON_CreateObject();
  cJSON_AddStringToObject(root, "event", "pusher:unsubscribe");
  cJSON* data = cJSON_AddObjectToObject(root, "data");
  cJSON_AddStringToObject(data, "channel", channel.c_str());
  return print_and_free(root);
}

// A client event; `data_json` is parsed and embedded as the data value.
inline std::string client_event_frame(const std::string& event, const std::string& channel,
                                      const std::string& data_json) {
  cJSON* root = cJSON_CreateObject();
  cJSON_AddStringToObject(root, "event", event.c_str());
  cJSON_AddStringToObject(root, "channel", channel.c_str());
  cJSON* data = cJSON_Parse(data_json.c_str());
  REQUIRE(data != nullptr);
  cJSON_AddItemToObject(root, "data", data);
  return print_and_free(root);
}

// channel_data as a client sends it: {"user_id":ID,"user_info":INFO}
inline std::string channel_data(const std::string& user_id, const std::string& user_info_json = "{}") {
  cJSON* root = cJSON_CreateObject();
  cJSON_AddStringToObject(root, "user_id", user_id.c_str());
  cJSON_AddItemToObject(root, "user_info", cJSON_Parse(user_info_json.c_str()));
  return print_and_free(root);
}

// ---------------------------------------------------------------- signers

// "<key>:<hex hmac>" over socket_id:channel[:channel_data] (reference §2.7).
inline std::string channel_auth(const App& app, const std::string& socket_id, const std::string& channel,
                                const std::optional<std::string>& data = std::nullopt) {
  std::string to_sign = socket_id + ":" + channel;
  if (data) to_sign += ":" + *data;
  return app.key + ":" + signature::hmac_sha256_hex(app.secret, to_sign);
}

// "<key>:<hex hmac>" over socket_id::user::user_data, the pusher:signin auth (reference §2.7).
inline std::string user_auth(const App& app, const std::string& socket_id, const std::string& user_data) {
  return app.key + ":" + signature::hmac_sha256_hex(app.secret, socket_id + "::user::" + user_data);
}

// pusher:signin with `user_data`, signed for `socket_id` unless `auth` is given.
inline std::string signin_frame(const App& app, const std::string& socket_id, const std::string& user_data,
                                const std::optional<std::string>& auth = std::nullopt) {
  cJSON* root = cJSON_CreateObject();
  cJSON_AddStringToObject(root, "event", "pusher:signin");
  cJSON* data = cJSON_AddObjectToObject(root, "data");
  cJSON_AddStringToObject(data, "auth", auth.value_or(user_auth(app, socket_id, user_data)).c_str());
  cJSON_AddStringToObject(data, "user_data", user_data.c_str());
  return print_and_free(root);
}

// user_data {"id":ID,"watchlist":[…]} as an auth endpoint builds it.
inline std::string user_data(const std::string& id, const std::vector<std::string>& watchlist = {}) {
  cJSON* root = cJSON_CreateObject();
  cJSON_AddStringToObject(root, "id", id.c_str());
  if (!watchlist.empty()) {
    cJSON* list = cJSON_AddArrayToObject(root, "watchlist");
    for (const auto& w : watchlist) cJSON_AddItemToArray(list, cJSON_CreateString(w.c_str()));
  }
  return print_and_free(root);
}

// A Pusher-signed HTTP API request (reference §3.3), signed here independently of http::string_to_sign.
inline http::Request signed_request(const App& app, const std::string& method, const std::string& path,
                                    std::vector<std::pair<std::string, std::string>> params = {},
                                    const std::string& body = "", int64_t timestamp = 1353088179) {
  http::Request r;
  r.method = method;
  r.path = path;
  r.body = body;
  r.query = std::move(params);
  r.query.emplace_back("auth_key", app.key);
  r.query.emplace_back("auth_timestamp", std::to_string(timestamp));
  r.query.emplace_back("auth_version", "1.0");
  if (!body.empty()) r.query.emplace_back("body_md5", signature::md5_hex(body));
  std::map<std::string, std::string> sorted;
  for (const auto& [k, v] : r.query) {
    std::string key = k;
    for (char& ch : key) ch = char(std::tolower(static_cast<unsigned char>(ch)));
    sorted[key] = v;
  }
  std::string to_sign = method + "\n" + path + "\n";
  bool first = true;
  for (const auto& [k, v] : sorted) {
    if (!first) to_sign += "&";
    first = false;
    to_sign += k + "=" + v;
  }
  r.query.emplace_back("auth_signature", signature::hmac_sha256_hex(app.secret, to_sign));
  return r;
}

// ---------------------------------------------------------------- engine harness

struct FakeClock {
  int64_t now_ms = 1'000'000;
  void advance(int64_t ms) { now_ms += ms; }
};

// Records every wake, per connection and in order.
class RecordingTransport : public Transport {
 public:
  void wake(Connection& c) override {
    ++counts_[&c];
    order.push_back(&c);
  }
  int wakes_of(const Connection* c) const {
    auto it = counts_.find(c);
    return it == counts_.end() ? 0 : it->second;
  }
  std::vector<const Connection*> order;

 private:
  std::map<const Connection*, int> counts_;
};

// Pops every queued frame of `c` as text, as the transport would write them.
inline std::vector<std::string> drain(Connection& c) {
  std::vector<std::string> out;
  while (c.has_pending()) {
    out.emplace_back(c.front()->text());
    c.pop_front();
  }
  return out;
}

inline std::vector<std::string> events_of(const std::vector<std::string>& frames) {
  std::vector<std::string> out;
  for (const auto& f : frames) out.push_back(parse_frame(f).event);
  return out;
}

// One engine (a single worker) with a fake clock and a recording transport. Not copyable: the
// clock is captured.
struct EngineHarness {
  FakeClock clock;
  RecordingTransport transport;
  AppList apps;
  Hub hub{1};
  Engine engine;

  explicit EngineHarness(std::vector<App> app_list = {reference_app()}, EngineLimits limits = {})
      : apps(app_list.begin(), app_list.end()), engine(apps, limits, transport, hub, 0, [this] { return clock.now_ms; }) {}
  EngineHarness(const EngineHarness&) = delete;
  EngineHarness& operator=(const EngineHarness&) = delete;

  const App& app(const char* key = kRefKey) {
    const App* a = engine.app_by_key(key);
    REQUIRE(a != nullptr);
    return *a;
  }

  // Opens a connection and consumes its connection_established frame.
  Connection& connect(const App* a = nullptr) {
    Connection* c = engine.open(a ? *a : app(), nullptr);
    REQUIRE(c != nullptr);
    auto frames = drain(*c);
    REQUIRE(frames.size() == 1);
    REQUIRE(parse_frame(frames[0]).event == "pusher:connection_established");
    return *c;
  }

  void send(Connection& c, const std::string& text) { engine.on_message(c, text); }

  // Subscribes with a correct signature (and channel_data for presence); returns the replies.
  // Frames already queued for `c` (e.g. member_added from earlier joins) are dropped first.
  std::vector<std::string> join(Connection& c, const std::string& channel,
                                const std::optional<std::string>& data = std::nullopt) {
    drain(c);
    std::string auth;
    if (channel.rfind("private-", 0) == 0 || channel.rfind("presence-", 0) == 0)
      auth = channel_auth(c.app(), c.socket_id(), channel, data);
    send(c, subscribe_frame(channel, auth, data));
    return drain(c);
  }

  // Signs `c` in as `id` watching `watchlist`; returns the replies.
  std::vector<std::string> sign_in(Connection& c, const std::string& id, const std::vector<std::string>& watchlist = {}) {
    drain(c);
    send(c, signin_frame(c.app(), c.socket_id(), user_data(id, watchlist)));
    return drain(c);
  }

  // Joins and requires pusher_internal:subscription_succeeded as the only reply.
  void join_ok(Connection& c, const std::string& channel, const std::optional<std::string>& data = std::nullopt) {
    auto frames = join(c, channel, data);
    INFO("subscribing to " << channel);
    REQUIRE(frames.size() == 1);
    REQUIRE(parse_frame(frames[0]).event == "pusher_internal:subscription_succeeded");
  }
};

// A cluster bus that ignores what it is told; a test overrides what it records or answers.
struct QuietBus : ClusterBus {
  void watch_channel(const App&, const std::string&) override {}
  void unwatch_channel(const App&, const std::string&) override {}
  void watch_pattern(const App&, const std::string&) override {}
  void unwatch_pattern(const App&, const std::string&) override {}
  void watch_user(const App&, const std::string&) override {}
  void unwatch_user(const App&, const std::string&) override {}
  void publish(Delivery::Kind, const App&, std::string_view, std::string_view, std::string_view) override {}
};

// A mailbox the test empties by hand.
struct QueuedMailbox : Mailbox {
  std::vector<Delivery> queue;
  void post(Delivery d) override { queue.push_back(std::move(d)); }
};

// Two workers sharing one Hub, on one thread: the test decides when each worker's mailbox is
// handled.
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

}  // namespace raptor::test
