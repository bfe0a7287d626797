// A connection's frames waiting to be written, oldest first. Allocates nothing while empty and
// gives its memory back once drained after a burst: most connections are idle most of the time,
// and std::deque would cost ~600 bytes each even when empty.
#pragma once
#include <cstddef>
#include <vector>

#include "core/frame.h"

namespace raptor {

class FrameQueue {
 public:
  bool empty() const { return head_ == items_.size(); }
  size_t size() const { return items_.size() - head_; }
  Frame* front() const { return items_[head_].get(); }
  Frame* at(size_t i) const { return items_[head_ + i].get(); }  // i < size()

  void push(FramePtr frame) { items_.push_back(std::move(frame)); }

  void pop() {
    items_[head_++].reset();
    if (head_ == items_.size()) {
      clear();
    } else if (head_ >= kCompactAfter && head_ * 2 >= items_.size()) {
      // A queue that never quite drains: drop the spent slots (amortized O(1)).
      items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
  }

  void clear() {
    if (items_.capacity() > kKeptCapacity)
      std::vector<FramePtr>().swap(items_);
    else
      items_.clear();
    head_ = 0;
  }

 private:
  static constexpr size_t kKeptCapacity = 16;
  static constexpr size_t kCompactAfter = 64;
  std::vector<FramePtr> items_;
  size_t head_ = 0;
};

}  // namespace raptor
