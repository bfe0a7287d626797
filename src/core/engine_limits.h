// The per-connection limits the engine enforces (docs/protocol.md#limits), set from flags and
// raptor.rb, and changed by a reload.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "core/client_address_ledger.h"

namespace raptor {

struct EngineLimits {
  int activity_timeout_s = 120;  // advertised to clients; silence this long earns a ping
  int pong_timeout_s = 30;       // then silence this long closes with 4201
  size_t max_send_queue_bytes = 1 << 20;
  // Unsent bytes of every connection of the process together (a frame counted once per
  // connection it waits for); past it the slowest readers are closed with 4100. 0: none.
  size_t max_send_queue_total_bytes = size_t(256) << 20;
  // Per connection (docs/protocol.md#limits): subscriptions held at once, and pusher:subscribe
  // messages a second on average, up to the larger of the two at once (so that a client that
  // reconnects can subscribe again to everything it may hold).
  size_t max_subscriptions = 1000;
  uint32_t subscriptions_per_second = 100;
  // Connections of one app open at once on a node, for apps that set no max_connections; 0: none.
  size_t max_connections_per_app = 0;
  // Events the HTTP API may publish a second per app, for apps that set no api_events_per_second; 0: none.
  uint32_t api_events_per_second = 0;
  // Per client address, over every worker (core/client_address_ledger.h).
  AddressLimits per_address{};
  uint32_t subscribe_burst() const { return uint32_t(std::max<size_t>(max_subscriptions, subscriptions_per_second)); }
};

}  // namespace raptor
