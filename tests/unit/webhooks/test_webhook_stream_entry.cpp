// A webhook event as a Redis stream entry (webhooks/webhook_stream_entry.h): what goes in comes
// out, and every malformed entry is refused with the reason.
#include "webhooks/webhook_stream_entry.h"

#include <catch2/catch.hpp>

using namespace raptor;

namespace {

StreamedWebhook sample() {
  StreamedWebhook w;
  w.app_id = "app:1";
  w.type = WebhookType::ClientEvent;
  w.channel = "private-chat";
  w.json = R"({"name":"client_event","channel":"private-chat","event":"client-x","data":"{\"a\":\"\\n\"}"})";
  w.emitted_ms = 1700000000123;
  w.origin = "web-1";
  return w;
}

StreamFields without(StreamFields fields, const std::string& name) {
  fields.erase(std::remove_if(fields.begin(), fields.end(), [&](const auto& f) { return f.first == name; }),
               fields.end());
  return fields;
}

StreamFields with(StreamFields fields, const std::string& name, const std::string& value) {
  for (auto& f : fields)
    if (f.first == name) f.second = value;
  return fields;
}

}  // namespace

TEST_CASE("a streamed webhook comes back as it went in", "[webhooks][stream]") {
  for (size_t t = 0; t < kWebhookTypeCount; ++t) {
    StreamedWebhook w = sample();
    w.type = static_cast<WebhookType>(t);
    w.channel = t % 2 ? "" : "presence-room\xc3\xa9";
    std::string why;
    auto back = decode_stream_entry(encode_stream_entry(w), why);
    REQUIRE(back);
    CHECK(why.empty());
    CHECK(back->app_id == w.app_id);
    CHECK(back->type == w.type);
    CHECK(back->channel == w.channel);
    CHECK(back->json == w.json);
    CHECK(back->emitted_ms == w.emitted_ms);
    CHECK(back->origin == w.origin);
  }
}

TEST_CASE("stream entry fields: names and order as XADD gets them", "[webhooks][stream]") {
  StreamFields f = encode_stream_entry(sample());
  std::vector<std::string> names;
  for (const auto& [name, value] : f) names.push_back(name);
  CHECK(names == std::vector<std::string>{"v", "app", "type", "channel", "event", "at", "node"});
  CHECK(f[0].second == "1");
  CHECK(f[2].second == "client_event");
  CHECK(f[5].second == "1700000000123");
}

TEST_CASE("a malformed stream entry is refused with its reason", "[webhooks][stream]") {
  const StreamFields good = encode_stream_entry(sample());
  struct Bad {
    StreamFields fields;
    std::string reason;
  };
  std::vector<Bad> cases = {
      {{}, "no format version (v)"},
      {with(good, "v", "2"), "entry format version 2 is not known here"},
      {without(good, "v"), "no format version (v)"},
      {without(good, "app"), "no 'app' field"},
      {without(good, "type"), "no 'type' field"},
      {without(good, "channel"), "no 'channel' field"},
      {without(good, "event"), "no 'event' field"},
      {without(good, "at"), "no 'at' field"},
      {without(good, "node"), "no 'node' field"},
      {with(good, "type", "channel_exploded"), "unknown event type 'channel_exploded'"},
      {with(good, "at", ""), "bad emission time ''"},
      {with(good, "at", "-5"), "bad emission time '-5'"},
      {with(good, "at", "12x"), "bad emission time '12x'"},
      {with(good, "at", " 12"), "bad emission time ' 12'"},
      {with(good, "at", "1234567890123456789"), "bad emission time '1234567890123456789'"},
      {with(good, "app", ""), "empty app id"},
  };
  for (const Bad& bad : cases) {
    INFO(bad.reason);
    std::string why;
    CHECK_FALSE(decode_stream_entry(bad.fields, why));
    CHECK(why == bad.reason);
  }
}

TEST_CASE("a stream entry with fields this version does not know is read all the same", "[webhooks][stream]") {
  StreamFields f = encode_stream_entry(sample());
  f.emplace_back("priority", "high");
  std::string why;
  auto w = decode_stream_entry(f, why);
  REQUIRE(w);
  CHECK(w->channel == "private-chat");
}
