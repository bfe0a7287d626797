// The events one webhook receiver's outbox holds before they go out in a batch, oldest first,
// with the two removals a bounded outbox needs besides taking the oldest
// (docs/webhooks.md#when-a-receiver-falls-behind):
// - a channel_occupied still waiting can be taken out when its channel_vacated comes (the pair
//   then tells the receiver nothing: WebhookQueue decides when);
// - when the outbox is full, the oldest event of the cheapest type can make room for a dearer
//   one. The drop order, cheapest first: cache_miss and subscription_count (hints the next
//   subscribe or count repeats), client_event, channel_occupied (whose channel_vacated the queue
//   then drops too). channel_vacated, member_added and member_removed are never dropped to make
//   room: a receiver that missed one would keep a channel or a member forever.
// Every operation is O(1) (amortized): a removed event leaves a hole that the oldest-first walk
// skips. Not thread-safe: WebhookQueue guards it.
#pragma once
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/webhook_sink.h"

namespace raptor {

struct WaitingEvent {
  int64_t emitted_ms = 0;
  std::string json;     // webhook_body::event_json
  std::string entry{};  // its stream entry's id; empty when it did not come through the stream
  WebhookType type = WebhookType::ChannelOccupied;  // the original type (receivers choose by it)
  std::string channel{};
};

class WaitingEvents {
 public:
  // Types that may be dropped to make room are ranked below this, cheapest 0.
  static constexpr int kDroppableRanks = 3;
  static int drop_rank(WebhookType type);

  size_t size() const { return live_; }
  bool empty() const { return live_ == 0; }
  const WaitingEvent& front() const { return slots_.front().event; }  // when !empty()
  void push(WaitingEvent e);
  WaitingEvent pop_front();  // when !empty()
  // The channel_occupied of `channel` waiting here, or null.
  const WaitingEvent* occupied(const std::string& channel) const;
  // Takes out the channel_occupied of `channel`, which occupied() found.
  WaitingEvent take_occupied(const std::string& channel);
  // Takes out the oldest event of the cheapest type that ranks below `type`; none when there is
  // none such.
  std::optional<WaitingEvent> drop_cheaper_than(WebhookType type);
  template <typename Visit>  // Visit(const WaitingEvent&), oldest first
  void for_each(Visit visit) const {
    for (const Slot& s : slots_)
      if (!s.gone) visit(s.event);
  }
  void clear();

 private:
  struct Slot {
    WaitingEvent event;
    bool gone = false;  // taken out from the middle
  };
  Slot& slot(uint64_t seq) { return slots_[size_t(seq - front_seq_)]; }
  WaitingEvent take(uint64_t seq);
  // Drops the holes at the front and the by-rank numbers of events no longer here.
  void trim();

  std::deque<Slot> slots_;
  uint64_t front_seq_ = 0;  // the number of slots_.front(); each push numbers the next
  size_t live_ = 0;
  std::unordered_map<std::string, uint64_t> occupied_;  // channel -> its channel_occupied
  std::deque<uint64_t> by_rank_[kDroppableRanks];        // numbers, oldest first (some stale)
};

}  // namespace raptor
