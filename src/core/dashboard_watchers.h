// The connections of this worker that watch #raptor-dashboard (docs/metrics.md#dashboard): the
// dashboard page's own Pusher WebSocket, signed with the admin token (protocol/admin_token.h).
// Raptor sends them a snapshot of its figures once a second (http/dashboard_feed.h) while there
// are any; with none, that costs nothing. The channel is not an app's: it is kept here, not in
// the channel table, the directory or the cluster, so no webhook, count, channel listing or other
// node hears of it, and nothing but those snapshots is ever sent on it.
// Single-threaded: the worker's loop.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>

#include "core/connection.h"
#include "core/subscription_authorizer.h"

namespace raptor {

class DashboardWatchers {
 public:
  // `c` subscribes to `channel`, a #raptor- name, with `auth`: a refusal, or none and `c` watches.
  std::optional<SubscriptionRefusal> watch(Connection& c, const std::string& channel,
                                           std::optional<std::string_view> auth);
  // `c` unsubscribed or closed. Every close asks: with no watcher, that is one test.
  void forget(const Connection& c) {
    if (!watchers_.empty()) watchers_.erase(const_cast<Connection*>(&c));
  }
  bool empty() const { return watchers_.empty(); }
  const std::unordered_set<Connection*>& watchers() const { return watchers_; }

 private:
  std::unordered_set<Connection*> watchers_;
};

}  // namespace raptor
