// WaitingEvents: an outbox's events oldest first, a channel_occupied taken out of the middle
// when its vacated comes, and the drop order that makes room when the outbox is full.
#include "webhooks/waiting_events.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace raptor;

namespace {

WaitingEvent waiting(WebhookType type, std::string channel, int64_t at = 0) {
  return WaitingEvent{at, std::string(webhook_type_name(type)) + ":" + channel, {}, type, std::move(channel)};
}

std::vector<std::string> all(const WaitingEvents& w) {
  std::vector<std::string> out;
  w.for_each([&](const WaitingEvent& e) { out.push_back(e.json); });
  return out;
}

}  // namespace

TEST_CASE("waiting events leave oldest first, around the ones taken out", "[webhooks][waiting]") {
  WaitingEvents w;
  w.push(waiting(WebhookType::ChannelOccupied, "a", 1));
  w.push(waiting(WebhookType::ChannelOccupied, "b", 2));
  w.push(waiting(WebhookType::MemberAdded, "presence-c", 3));
  REQUIRE(w.occupied("b") != nullptr);
  CHECK(w.occupied("b")->emitted_ms == 2);
  CHECK(w.take_occupied("b").json == "channel_occupied:b");
  CHECK(w.occupied("b") == nullptr);
  CHECK(w.size() == 2);
  CHECK(all(w) == std::vector<std::string>{"channel_occupied:a", "member_added:presence-c"});
  CHECK(w.pop_front().json == "channel_occupied:a");
  CHECK(w.occupied("a") == nullptr);  // sent: no longer waiting
  CHECK(w.front().json == "member_added:presence-c");
  CHECK(w.pop_front().json == "member_added:presence-c");
  CHECK(w.empty());
}

TEST_CASE("the cheapest event makes room first, and departures and members never do", "[webhooks][waiting]") {
  WaitingEvents w;
  w.push(waiting(WebhookType::MemberAdded, "presence-m"));
  w.push(waiting(WebhookType::ChannelOccupied, "o"));
  w.push(waiting(WebhookType::ClientEvent, "private-e"));
  w.push(waiting(WebhookType::ChannelVacated, "v"));
  w.push(waiting(WebhookType::CacheMiss, "cache-1"));
  w.push(waiting(WebhookType::SubscriptionCount, "s"));
  w.push(waiting(WebhookType::CacheMiss, "cache-2"));
  CHECK_FALSE(w.drop_cheaper_than(WebhookType::CacheMiss));  // nothing is cheaper than the cheapest
  std::vector<std::string> order;
  while (auto dropped = w.drop_cheaper_than(WebhookType::MemberRemoved)) order.push_back(dropped->json);
  CHECK(order == std::vector<std::string>{"cache_miss:cache-1", "subscription_count:s", "cache_miss:cache-2",
                                          "client_event:private-e", "channel_occupied:o"});
  CHECK(all(w) == std::vector<std::string>{"member_added:presence-m", "channel_vacated:v"});
  CHECK(w.occupied("o") == nullptr);
}

TEST_CASE("an event makes room only by a cheaper one", "[webhooks][waiting]") {
  WaitingEvents w;
  w.push(waiting(WebhookType::ChannelOccupied, "o"));
  w.push(waiting(WebhookType::ClientEvent, "private-e"));
  CHECK_FALSE(w.drop_cheaper_than(WebhookType::ClientEvent));
  CHECK(w.drop_cheaper_than(WebhookType::ChannelOccupied)->json == "client_event:private-e");
  CHECK_FALSE(w.drop_cheaper_than(WebhookType::ChannelOccupied));
  CHECK(w.drop_cheaper_than(WebhookType::ChannelVacated)->json == "channel_occupied:o");
  CHECK(w.empty());
  // Events already sent are not dropped again.
  w.push(waiting(WebhookType::CacheMiss, "cache-1"));
  w.pop_front();
  CHECK_FALSE(w.drop_cheaper_than(WebhookType::MemberAdded));
}
