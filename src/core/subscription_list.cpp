#include "core/subscription_list.h"

#include "protocol/channel_pattern.h"

namespace raptor {

size_t SubscriptionList::position(std::string_view channel) const {
  if (index_) {
    auto it = index_->find(std::string(channel));
    return it == index_->end() ? kNone : it->second;
  }
  for (size_t i = 0; i < items_.size(); ++i)
    if (items_[i].first == channel) return i;
  return kNone;
}

void SubscriptionList::add(std::string channel, Subscription s) {
  patterns_ += names_pattern(channel);
  if (index_) index_->emplace(channel, items_.size());
  items_.emplace_back(std::move(channel), std::move(s));
  if (index_ || items_.size() < kIndexFrom) return;
  index_ = std::make_unique<std::unordered_map<std::string, size_t>>();
  index_->reserve(items_.size() * 2);
  for (size_t i = 0; i < items_.size(); ++i) index_->emplace(items_[i].first, i);
}

Subscription SubscriptionList::remove(std::string_view channel) {
  size_t at = position(channel);
  if (at == kNone) return {};
  patterns_ -= names_pattern(channel);
  Subscription out = std::move(items_[at].second);
  if (index_) index_->erase(std::string(channel));
  // The last item takes the removed one's place.
  if (at + 1 != items_.size()) {
    items_[at] = std::move(items_.back());
    if (index_) (*index_)[items_[at].first] = at;
  }
  items_.pop_back();
  if (items_.empty()) index_.reset();
  return out;
}

}  // namespace raptor
