// What the cluster hands a worker's engine: the other side of ClusterBus (core/cluster_bus.h).
// Implemented by Engine; cluster/ talks to it through this and knows no engine. Called on the
// worker's thread, from the bus's Redis callbacks and ticks.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "core/app.h"
#include "core/hub.h"
#include "core/webhook_sink.h"

namespace raptor {

class ClusterInbox {
 public:
  // An event from another node for this worker's recipients of a watched channel or user: a
  // channel event, a user event or the termination of a user's connections; `version` numbers a
  // presence member event decided in Redis (from any node, this one included).
  virtual void deliver_from_cluster(Delivery::Kind kind, const App& app, const std::string& target,
                                    std::string_view text, std::string_view except_socket_id, uint64_t version) = 0;
  // An event published on another node to `channel`, for this worker's subscribers of the
  // watched wildcard `pattern` (which the bus has checked matches it).
  virtual void deliver_from_cluster_to_pattern(const App& app, const std::string& channel, const std::string& pattern,
                                               std::string_view text, std::string_view except_socket_id) = 0;
  // A webhook Redis decided (channel_occupied / vacated, member_added / removed), to send through
  // this node as it is: any delay was waited in Redis.
  virtual void emit_cluster_webhook(const App& app, WebhookEvent e) = 0;
  // The app a departure held in Redis names (null: none served here).
  virtual const App* app_by_id(std::string_view id) const = 0;
  // Redis may have lost what this worker counted there (it reconnected, or the node's lease was
  // made anew): count it again (docs/cluster.md#node-leases).
  virtual void reassert_cluster_state() = 0;

 protected:
  ~ClusterInbox() = default;
};

}  // namespace raptor
