// The webhook wire format: each event type's fields as Pusher documents them (reference §4).
#include "webhooks/webhook_body.h"

#include "support.h"

using namespace raptor;
using namespace raptor::test;

namespace {

WebhookEvent event(WebhookType type, std::string channel) {
  WebhookEvent e;
  e.type = type;
  e.channel = std::move(channel);
  return e;
}

// The event's JSON, checked to be exactly the object `expected_json` (same members and values).
void require_json(const WebhookEvent& e, const std::string& expected_json) {
  std::string text = webhook_body::event_json(e);
  INFO(text);
  auto got = strict_parse(text), want = strict_parse(expected_json);
  CHECK(cJSON_Compare(got.get(), want.get(), 1));
}

}  // namespace

TEST_CASE("webhook events carry the fields of their type", "[webhooks]") {
  require_json(event(WebhookType::ChannelOccupied, "c"), R"({"name":"channel_occupied","channel":"c"})");
  require_json(event(WebhookType::ChannelVacated, "c"), R"({"name":"channel_vacated","channel":"c"})");
  require_json(event(WebhookType::CacheMiss, "cache-c"), R"({"name":"cache_miss","channel":"cache-c"})");
  WebhookEvent m = event(WebhookType::MemberAdded, "presence-c");
  m.user_id = "u\"1";
  require_json(m, R"({"name":"member_added","channel":"presence-c","user_id":"u\"1"})");
  m.type = WebhookType::MemberRemoved;
  require_json(m, R"({"name":"member_removed","channel":"presence-c","user_id":"u\"1"})");
  WebhookEvent n = event(WebhookType::SubscriptionCount, "c");
  n.subscription_count = 12;
  require_json(n, R"({"name":"subscription_count","channel":"c","subscription_count":12})");
}

TEST_CASE("client_event: data as a string, user_id only on presence", "[webhooks]") {
  WebhookEvent e = event(WebhookType::ClientEvent, "private-c");
  e.event = "client-x";
  e.socket_id = "123.456";
  e.data = R"({"a":[1,2]})";
  require_json(e, R"({"name":"client_event","channel":"private-c","event":"client-x","data":"{\"a\":[1,2]}","socket_id":"123.456"})");
  e.data = R"("just text")";  // a string the client sent is passed as itself
  require_json(e, R"({"name":"client_event","channel":"private-c","event":"client-x","data":"just text","socket_id":"123.456"})");
  e.channel = "presence-c";
  e.user_id = "7";
  e.data = "42";
  require_json(e, R"({"name":"client_event","channel":"presence-c","event":"client-x","data":"42","socket_id":"123.456","user_id":"7"})");
}

TEST_CASE("the body wraps the events with time_ms, and the headers sign it", "[webhooks]") {
  std::string a = R"({"name":"channel_occupied","channel":"a"})", b = R"({"name":"channel_vacated","channel":"b"})";
  std::string body = webhook_body::body(1327078148132, {&a, &b});
  CHECK(body == R"({"time_ms":1327078148132,"events":[)" + a + "," + b + "]}");
  WebhookEndpoint endpoint;
  endpoint.headers = {{"Authorization", "Bearer t"}};
  auto headers = webhook_body::headers(reference_app(), endpoint, body);
  CHECK(headers == webhook_body::Headers{{"Content-Type", "application/json"},
                                         {"X-Pusher-Key", kRefKey},
                                         {"X-Pusher-Signature", signature::hmac_sha256_hex(kRefSecret, body)},
                                         {"Authorization", "Bearer t"},
                                         {"User-Agent", "raptor/" RAPTOR_VERSION}});
  endpoint.headers.emplace_back("user-agent", "my-relay");
  CHECK(webhook_body::headers(reference_app(), endpoint, body).back() == std::make_pair(std::string("user-agent"),
                                                                                        std::string("my-relay")));
}
