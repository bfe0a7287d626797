#include "webhooks/shaping_queue.h"

#include <algorithm>
#include <utility>

#include "common/log.h"

namespace raptor {

bool ShapingQueue::shapes(const App& app) const {
  return std::find(apps_.begin(), apps_.end(), &app) != apps_.end();
}

bool ShapingQueue::hold(Event e) {
  if (waiting_.size() >= limit_) {  // the hook cannot keep up
    if (overflowed_++ == 0)
      log::warn("webhooks: %zu events wait for the shape_webhook hook, the limit: dropping new events until it "
                "catches up",
                waiting_.size());
    return false;
  }
  if (overflowed_) {
    log::warn("webhooks: the shape_webhook hook caught up; %llu events were dropped meanwhile",
              static_cast<unsigned long long>(overflowed_));
    overflowed_ = 0;
  }
  waiting_.push_back(std::move(e));
  return true;
}

std::deque<ShapingQueue::Event> ShapingQueue::take_all() {
  std::deque<Event> out;
  out.swap(waiting_);
  return out;
}

size_t ShapingQueue::run_hook(Policy* policy, std::deque<Event>& events) {
  std::deque<Event> kept;
  for (Event& e : events) {
    if (policy && policy->has(*e.app, Policy::Hook::ShapeWebhook)) {  // else a reload took it away
      PolicyVerdict v = policy->shape_webhook({*e.app, e.json});
      if (!v.failed) {  // failed: logged, and sent as it was
        if (v.kind == PolicyVerdict::Kind::Drop || v.kind == PolicyVerdict::Kind::Deny) continue;
        if (v.kind == PolicyVerdict::Kind::Rewrite) e.json = std::move(v.data);
      }
    }
    kept.push_back(std::move(e));
  }
  size_t dropped = events.size() - kept.size();
  events.swap(kept);
  return dropped;
}

}  // namespace raptor
