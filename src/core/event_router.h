// Where an event goes: to this worker's recipients (FanOut for channels, the users part for a
// user's connections), to the other workers that hold recipients (the Hub's mailboxes, as the
// ChannelDirectory or UserDirectory names them) and to the other nodes (ClusterBus). Also the
// way back in: what a mailbox or the cluster brings is handed to this worker's recipients.
// Routing decides nothing about who may send or receive; the parts before it did.
// Single-threaded: the worker's loop.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/app.h"
#include "core/channel_directory.h"
#include "core/cluster_bus.h"
#include "core/connection_table.h"
#include "core/fan_out.h"
#include "core/hub.h"

namespace raptor {

class EventRouter {
 public:
  // Hands a user kind of Delivery (UserEvent, WatchlistChange, TerminateUser) to this worker's
  // connections.
  using ToUsers = std::function<void(const Delivery&)>;

  // `worker` is this worker's index in `hub`.
  EventRouter(Hub& hub, size_t worker, FanOut& fan_out, const ConnectionTable& connections, ToUsers to_users)
      : hub_(hub), worker_(worker), fan_out_(fan_out), connections_(connections), to_users_(std::move(to_users)) {}

  // The cluster (other nodes), or null when alone.
  void set_cluster(ClusterBus* cluster) { cluster_ = cluster; }

  static Delivery delivery(Delivery::Kind kind, const App& app, std::string target, std::string text,
                           std::string except_socket_id = {}, uint64_t version = 0);

  // Sends an event to the channel's subscribers, and the matching wildcard subscribers, here and
  // on the other workers; and to other nodes.
  void broadcast(const App& app, const std::string& channel, std::string text, const Connection* except,
                 std::string_view except_socket_id = {});
  // Handles a user delivery (UserEvent, TerminateUser) here and sends it to the other workers and
  // nodes that hold the user's connections.
  void dispatch(const Delivery& d);
  // A change numbered under a directory's lock goes through the mailbox of every worker
  // holding recipients (this one's too), so that all see the changes in one order; see
  // ChannelDirectory. A lone worker delivers it at once.
  void announce(uint64_t workers, const Delivery& d);
  // announce() of `text` to the channel's subscribers but `except`, for the directory to call.
  ChannelDirectory::Announce announcer(const App& app, const std::string& channel, std::string text,
                                       const Connection* except);

  // Work from another worker (or this one's announcements), for this worker's connections.
  void deliver(const Delivery& d);
  // An event from another node for this worker's recipients (see ClusterBus::publish).
  void deliver_from_cluster(Delivery::Kind kind, const App& app, const std::string& target, std::string_view text,
                            std::string_view except_socket_id, uint64_t version);
  // An event published on another node to `channel`, for this worker's subscribers of `pattern`.
  void deliver_from_cluster_to_pattern(const App& app, const std::string& channel, const std::string& pattern,
                                       std::string_view text, std::string_view except_socket_id);

 private:
  Hub& hub_;
  size_t worker_;
  FanOut& fan_out_;
  const ConnectionTable& connections_;
  ToUsers to_users_;
  ClusterBus* cluster_ = nullptr;
};

}  // namespace raptor
