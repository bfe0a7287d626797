#include "webhooks/departures.h"

namespace raptor {

std::string Departures::key(const App& app, const WebhookEvent& e) {
  bool member = e.type == WebhookType::MemberAdded || e.type == WebhookType::MemberRemoved;
  std::string k = app.id;
  k += '\0';
  k += member ? 'm' : 'c';
  k += e.channel;
  if (member) {
    k += '\0';
    k += e.user_id;
  }
  return k;
}

void Departures::hold(const App& app, WebhookEvent e, int64_t due_ms) {
  std::string k = key(app, e);
  cancel(k);  // cannot be held twice (no departure without an arrival between), but stay sound
  held_.push_back(Held{k, due_ms, Due{&app, std::move(e)}});
  by_key_[std::move(k)] = std::prev(held_.end());
}

bool Departures::cancel(const std::string& key) {
  auto it = by_key_.find(key);
  if (it == by_key_.end()) return false;
  held_.erase(it->second);
  by_key_.erase(it);
  return true;
}

std::vector<Departures::Due> Departures::take_due(int64_t now_ms) {
  std::vector<Due> out;
  while (!held_.empty() && held_.front().due_ms <= now_ms) {
    by_key_.erase(held_.front().key);
    out.push_back(std::move(held_.front().due));
    held_.pop_front();
  }
  return out;
}

}  // namespace raptor
