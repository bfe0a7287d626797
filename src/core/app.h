// An application: the credentials its clients and servers sign with, its per-app limits and
// its webhook receivers.
#pragma once
#include <atomic>
#include <cstddef>
#include <deque>
#include <string>
#include <vector>

#include "core/shared_rate_limiter.h"
#include "core/webhook_endpoint.h"

namespace raptor {

// How many connections of an app are open on this node, over every worker thread (not the
// cluster: each node counts its own). The count belongs to the running app, not to its settings:
// a copy (a reload's new settings) starts at 0, and assigning new settings to a running app
// (config/reload.h) keeps the connections it counts.
class NodeConnections {
 public:
  NodeConnections() = default;
  NodeConnections(const NodeConnections&) {}
  NodeConnections& operator=(const NodeConnections&) { return *this; }
  size_t open() const { return n_.load(std::memory_order_relaxed); }
  void opened() const { n_.fetch_add(1, std::memory_order_relaxed); }
  void closed() const { n_.fetch_sub(1, std::memory_order_relaxed); }

 private:
  mutable std::atomic<size_t> n_{0};
};

struct App {
  std::string id;
  std::string key;
  std::string secret;
  bool client_events = true;
  size_t max_presence_members = 100;
  size_t max_user_info_bytes = 1024;
  size_t max_user_id_length = 128;
  size_t max_event_data_bytes = 10240;
  int client_events_per_second = 10;
  // "Authorized connections": seconds a connection has to sign in or subscribe to a private or
  // presence channel before it is closed with 4009; 0 lets connections stay anonymous.
  int user_authentication_timeout_s = 0;
  int cache_ttl_s = 1800;                  // how long a cache channel keeps its last event
  bool subscription_count_events = false;  // pusher_internal:subscription_count to subscribers
  // Connections open at once on a node; more are refused with 4004. 0: the server's default
  // (--max-connections-per-app), itself 0 for no limit.
  size_t max_connections = 0;
  // Origins whose pages may connect (scheme://host[:port], or scheme://*.domain for its
  // subdomains); others are refused with 4009. Empty: any origin.
  std::vector<std::string> allowed_origins{};
  // Events the HTTP API may publish a second, over every worker of the node, up to a second's
  // worth (at least a full batch) at once; more are answered 429. 0: the server's default
  // (--api-events-per-second), itself 0 for no limit.
  uint32_t api_events_per_second = 0;
  SharedRateLimiter api_events{};
  NodeConnections connections{};
  std::vector<WebhookEndpoint> webhooks{};
  // Removed by a reload (config/reload.h): not served any more, but kept, since connections,
  // channels and queued work still point at it. An app added again under its id is this one.
  bool retired = false;

  // Whether subscription counts are kept: for the clients' events or for a webhook.
  bool counts_subscriptions() const {
    if (subscription_count_events) return true;
    for (const auto& w : webhooks)
      if (w.types & webhook_type_bit(WebhookType::SubscriptionCount)) return true;
    return false;
  }
};

// The apps a server serves. A deque, so that an app never moves: connections, channels,
// deliveries and webhook outboxes hold `const App*` for as long as the process runs. A reload
// changes an app in place (while every worker is paused) and retires the ones it removes.
using AppList = std::deque<App>;

}  // namespace raptor
