// The webhooks the engine itself reports: client events, cache misses, subscription counts, and
// those the cluster decided (channel_occupied / vacated, member_added / removed decided in Redis).
// Occupancy and member changes of a node alone are reported by the ChannelDirectory, under its
// lock. Each goes to the hub's sink only when the app has receivers, so an app without any pays
// nothing. Single-threaded: the worker's loop (the sink is thread-safe).
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

#include "core/app.h"
#include "core/hub.h"
#include "core/webhook_sink.h"

namespace raptor {

class WebhookEmitter {
 public:
  explicit WebhookEmitter(const Hub& hub) : hub_(hub) {}

  // Hands `e` to the sink, which applies this node's delays and cancelling.
  void emit(const App& app, WebhookEvent e) const;
  // A webhook the cluster decided, sent as it is: any delay was waited in Redis.
  void emit_decided(const App& app, WebhookEvent e) const;
  // subscription_count for `channel`.
  void subscription_count(const App& app, const std::string& channel, size_t count) const;
  // cache_miss: a subscriber of a cache channel found no event to replay.
  void cache_miss(const App& app, const std::string& channel) const;
  // client_event: `event` with `data` sent by `socket_id` (signed in as `user_id` on presence).
  void client_event(const App& app, const std::string& channel, const std::string& user_id, std::string_view event,
                    std::string_view data, const std::string& socket_id) const;

 private:
  const Hub& hub_;
};

}  // namespace raptor
