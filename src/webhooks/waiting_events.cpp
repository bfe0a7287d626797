#include "webhooks/waiting_events.h"

#include <algorithm>
#include <utility>

namespace raptor {

int WaitingEvents::drop_rank(WebhookType type) {
  switch (type) {
    case WebhookType::CacheMiss:
    case WebhookType::SubscriptionCount:
      return 0;
    case WebhookType::ClientEvent:
      return 1;
    case WebhookType::ChannelOccupied:
      return 2;
    case WebhookType::ChannelVacated:
    case WebhookType::MemberAdded:
    case WebhookType::MemberRemoved:
      break;
  }
  return kDroppableRanks;
}

void WaitingEvents::push(WaitingEvent e) {
  uint64_t seq = front_seq_ + slots_.size();
  int rank = drop_rank(e.type);
  if (rank < kDroppableRanks) by_rank_[rank].push_back(seq);
  if (e.type == WebhookType::ChannelOccupied) occupied_[e.channel] = seq;
  slots_.push_back(Slot{std::move(e)});
  ++live_;
}

WaitingEvent WaitingEvents::pop_front() { return take(front_seq_); }

const WaitingEvent* WaitingEvents::occupied(const std::string& channel) const {
  auto it = occupied_.find(channel);
  return it == occupied_.end() ? nullptr : &slots_[size_t(it->second - front_seq_)].event;
}

WaitingEvent WaitingEvents::take_occupied(const std::string& channel) { return take(occupied_.at(channel)); }

std::optional<WaitingEvent> WaitingEvents::drop_cheaper_than(WebhookType type) {
  for (int rank = 0; rank < std::min(drop_rank(type), kDroppableRanks); ++rank) {
    auto& numbers = by_rank_[rank];
    while (!numbers.empty()) {
      uint64_t seq = numbers.front();
      numbers.pop_front();
      if (seq >= front_seq_ && !slot(seq).gone) return take(seq);
    }
  }
  return std::nullopt;
}

WaitingEvent WaitingEvents::take(uint64_t seq) {
  Slot& s = slot(seq);
  WaitingEvent out = std::move(s.event);
  s.gone = true;
  --live_;
  if (out.type == WebhookType::ChannelOccupied) {
    auto it = occupied_.find(out.channel);
    if (it != occupied_.end() && it->second == seq) occupied_.erase(it);
  }
  trim();
  return out;
}

void WaitingEvents::trim() {
  while (!slots_.empty() && slots_.front().gone) {
    slots_.pop_front();
    ++front_seq_;
  }
  for (auto& numbers : by_rank_)
    while (!numbers.empty() && numbers.front() < front_seq_) numbers.pop_front();
}

void WaitingEvents::clear() {
  front_seq_ += slots_.size();
  slots_.clear();
  live_ = 0;
  occupied_.clear();
  for (auto& numbers : by_rank_) numbers.clear();
}

}  // namespace raptor
