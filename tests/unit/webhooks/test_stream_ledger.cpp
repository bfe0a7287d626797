// StreamLedger (src/webhooks/stream_ledger.h): when an entry read from the cluster's stream is
// settled, and the events waiting to be appended.
#include "webhooks/stream_ledger.h"

#include <algorithm>

#include "support.h"

using namespace raptor;

TEST_CASE("stream ledger: an entry is settled once each receiver and the putting in are done", "[webhooks][stream]") {
  StreamLedger ledger;
  ledger.hold("1-0", 2);
  CHECK(ledger.holds("1-0"));
  ledger.settle("1-0");  // the putting in
  ledger.settle("1-0");  // one receiver
  CHECK_FALSE(ledger.has_settled());
  ledger.settle("1-0");
  CHECK(ledger.take_settled() == std::vector<std::string>{"1-0"});
  CHECK_FALSE(ledger.holds("1-0"));
  ledger.settle("1-0");  // settled already: nothing more
  ledger.settle("");     // an event that did not come through the stream
  CHECK_FALSE(ledger.has_settled());
}

TEST_CASE("stream ledger: entries settled at once, and those still held", "[webhooks][stream]") {
  StreamLedger ledger;
  ledger.settle_now("1-0");
  ledger.hold("2-0", 1);
  ledger.hold("3-0", 0);
  CHECK(ledger.held() == 2);
  auto held = ledger.held_entries();
  std::sort(held.begin(), held.end());
  CHECK(held == std::vector<std::string>{"2-0", "3-0"});
  CHECK(ledger.take_settled() == std::vector<std::string>{"1-0"});
  CHECK(ledger.take_settled().empty());
}

TEST_CASE("stream ledger: events wait to be appended in order", "[webhooks][stream]") {
  StreamLedger ledger;
  ledger.append_later({"a", WebhookType::ClientEvent, "room", "{}", 1, {}});
  ledger.append_later({"a", WebhookType::CacheMiss, "hall", "{}", 2, {}});
  CHECK(ledger.waiting() == 2);
  auto taken = ledger.take_for_stream();
  REQUIRE(taken.size() == 2);
  CHECK(taken[0].channel == "room");
  CHECK(taken[1].channel == "hall");
  CHECK(ledger.waiting() == 0);
  ledger.append_later({"a", WebhookType::ClientEvent, "room", "{}", 3, {}});
  ledger.drop_waiting();
  CHECK(ledger.take_for_stream().empty());
}
