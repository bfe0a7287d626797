// channel_vacated and member_removed held back for a delay (about 3 s, as Pusher does), so that a
// page reload, which leaves and comes back within a moment, sends neither the departure nor the
// matching arrival: the arrival cancels the pending departure and is itself not sent.
// Not thread-safe: WebhookQueue guards it.
#pragma once
#include <cstdint>
#include <list>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/app.h"
#include "core/webhook_sink.h"

namespace raptor {

class Departures {
 public:
  struct Due {
    const App* app;
    WebhookEvent event;
  };

  // The key that a departure and its cancelling arrival share: the channel, and for member
  // events the user too.
  static std::string key(const App& app, const WebhookEvent& e);

  // Holds `e` until `due_ms`. The delay is the same for all, so due times only grow.
  void hold(const App& app, WebhookEvent e, int64_t due_ms);
  // An arrival: true when it cancelled a held departure (and so must not be sent either).
  bool cancel(const std::string& key);
  // Removes and returns, oldest first, the departures due at `now_ms`.
  std::vector<Due> take_due(int64_t now_ms);
  // When the next one is due; INT64_MAX when none is held.
  int64_t next_due() const { return held_.empty() ? INT64_MAX : held_.front().due_ms; }
  size_t size() const { return held_.size(); }

 private:
  struct Held {
    std::string key;
    int64_t due_ms;
    Due due;
  };
  std::list<Held> held_;  // in due order
  std::unordered_map<std::string, std::list<Held>::iterator> by_key_;
};

}  // namespace raptor
