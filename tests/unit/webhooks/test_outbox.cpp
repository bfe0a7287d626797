// Outbox (src/webhooks/outbox.h): one receiver's batches, retries, bound and coalescing, with the
// clocks given by the test.
#include "webhooks/outbox.h"

#include "support.h"

using namespace raptor;
using namespace raptor::test;

namespace {

struct OutboxHarness {
  WebhookSettings settings;
  WebhookStats stats;
  StreamLedger ledger;
  Outbox::Shared shared{settings, stats, ledger};
  App app = reference_app();
  WebhookEndpoint endpoint;
  std::unique_ptr<Outbox> outbox;
  uint64_t next_id = 1;

  explicit OutboxHarness(WebhookSettings s = {}) : settings(s) {
    endpoint.url = "http://127.0.0.1:9000/hook";
    endpoint.host = "127.0.0.1";
    endpoint.port = 9000;
    endpoint.types = kDefaultWebhookTypes;
    outbox = std::make_unique<Outbox>(app, endpoint, "webhook 1", shared);
  }
  bool put(WebhookType type, const std::string& channel, int64_t at, const std::string& entry = {}) {
    return outbox->put(type, channel, "{\"channel\":\"" + channel + "\"}", at, entry);
  }
  std::optional<WebhookRequest> next(int64_t now) { return outbox->next_request(now, 1700000000000, next_id); }
};

}  // namespace

TEST_CASE("outbox: a batch leaves batch_ms after its first event, or when full", "[webhooks][outbox]") {
  WebhookSettings s;
  s.max_batch_events = 2;
  OutboxHarness h(s);
  CHECK(h.outbox->due() == INT64_MAX);
  h.put(WebhookType::ClientEvent, "a", 100);
  CHECK(h.outbox->due() == 100 + s.batch_ms);
  CHECK_FALSE(h.next(100));
  h.put(WebhookType::ClientEvent, "b", 110);
  CHECK(h.outbox->due() == 100);  // full
  auto r = h.next(110);
  REQUIRE(r);
  CHECK(r->app == &h.app);
  CHECK(r->body.find("\"a\"") < r->body.find("\"b\""));
  CHECK(h.outbox->held() == 2);
  CHECK(h.outbox->due() == INT64_MAX);  // one POST at a time
  CHECK(h.outbox->finish(r->id, 200, {}, 120));
  CHECK(h.outbox->held() == 0);
  CHECK(h.stats.sent == 2);
}

TEST_CASE("outbox: a failed batch is retried with its body after the back-off, then given up", "[webhooks][outbox]") {
  OutboxHarness h;
  h.put(WebhookType::ClientEvent, "a", 0, "1-0");
  h.ledger.hold("1-0", 0);  // as if it came through the stream, with this one receiver
  auto r = h.next(h.settings.batch_ms);
  REQUIRE(r);
  CHECK_FALSE(h.outbox->finish(r->id + 1, 500, {}, 100));  // not its request
  CHECK(h.outbox->finish(r->id, 500, {}, 100));
  CHECK(h.outbox->failing());
  CHECK(h.outbox->due() == 100 + h.settings.retry_base_ms);
  auto again = h.next(100 + h.settings.retry_base_ms);
  REQUIRE(again);
  CHECK(again->body == r->body);
  CHECK(again->attempt == 2);
  CHECK(h.stats.retried == 1);
  CHECK_FALSE(h.ledger.has_settled());
  CHECK(h.outbox->finish(again->id, 0, "timeout", h.settings.retry_for_ms));
  CHECK(h.stats.dropped == 1);
  CHECK(h.ledger.take_settled() == std::vector<std::string>{"1-0"});
}

TEST_CASE("outbox: a 4xx answer drops the batch at once", "[webhooks][outbox]") {
  OutboxHarness h;
  h.put(WebhookType::ClientEvent, "a", 0);
  auto r = h.next(h.settings.batch_ms);
  REQUIRE(r);
  CHECK(h.outbox->finish(r->id, 404, {}, 100));
  CHECK(h.stats.dropped == 1);
  CHECK_FALSE(h.outbox->failing());
  CHECK(h.outbox->due() == INT64_MAX);
}

TEST_CASE("outbox: a brief occupation not told yet is coalesced with its vacated", "[webhooks][outbox]") {
  OutboxHarness h;
  CHECK(h.put(WebhookType::ChannelOccupied, "room", 0));
  CHECK_FALSE(h.put(WebhookType::ChannelVacated, "room", h.settings.departure_delay_ms));
  CHECK(h.outbox->held() == 0);
  CHECK(h.stats.coalesced == 2);
}

TEST_CASE("outbox: when full the cheapest waiting event makes room, and a dropped occupied takes its vacated",
          "[webhooks][outbox]") {
  WebhookSettings s;
  s.queue_limit = 2;
  OutboxHarness h(s);
  CHECK(h.put(WebhookType::ChannelOccupied, "room", 0));
  CHECK(h.put(WebhookType::CacheMiss, "hall", 0));
  CHECK(h.put(WebhookType::MemberAdded, "presence-x", 0));  // the cache_miss made room
  CHECK(h.stats.dropped == 1);
  CHECK(h.put(WebhookType::MemberAdded, "presence-y", 0));  // the occupied made room
  CHECK_FALSE(h.put(WebhookType::ChannelVacated, "room", 10 * s.departure_delay_ms));  // never heard begin
  CHECK(h.stats.dropped == 3);
  CHECK(h.outbox->held() == 2);
}

TEST_CASE("outbox: a reload re-signs the batch being retried, and a removed outbox settles its entries",
          "[webhooks][outbox]") {
  OutboxHarness h;
  h.put(WebhookType::ClientEvent, "a", 0, "1-0");
  h.put(WebhookType::ClientEvent, "b", 0, "2-0");
  h.ledger.hold("1-0", 0);
  h.ledger.hold("2-0", 0);
  auto r = h.next(h.settings.batch_ms);
  REQUIRE(r);
  h.outbox->finish(r->id, 503, {}, 100);
  h.app.secret = "another secret";
  h.outbox->reconfigured("webhook 2");
  CHECK(h.outbox->name() == "webhook 2");
  auto again = h.next(100 + h.settings.retry_base_ms);
  REQUIRE(again);
  CHECK(again->headers != r->headers);
  h.outbox->settle_all();
  auto settled = h.ledger.take_settled();
  CHECK(settled.size() == 2);
}
