// Delivery of an event to this worker's subscribers: of the channel it was published to, and of
// the wildcard patterns matching it (found once per event in the ChannelDirectory, and carried
// with it). One shared Frame per spelling (by name, by URL resource, per pattern) goes to every
// subscriber that reads it so; a subscriber still waiting for the cluster's roster has it held
// back, and a presence member event already in the roster a subscriber was given is skipped
// (see ChannelDirectory for versions). It reads the worker's channel table, which the engine's
// subscribe and unsubscribe keep. Single-threaded: the worker's loop.
//
// Patterns: a pattern's local subscribers sit in the channel table under the pattern's name (no
// channel name has a `*`), and receive the event with `channel` naming the pattern as they
// subscribed and `concrete_channel` the channel (docs/channels.md). Patterns are not channels:
// they have no occupancy, counts, webhooks or cache replays.
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/app.h"
#include "core/channel.h"
#include "core/connection_table.h"
#include "core/sender.h"

namespace raptor {

// The worker's channels of one app by name, and its wildcard patterns by pattern.
using Channels = std::unordered_map<std::string, std::unique_ptr<Channel>>;
// Every app's.
using ChannelTable = std::unordered_map<const App*, Channels>;

class FanOut {
 public:
  FanOut(ChannelTable& channels, const ConnectionTable& connections, Sender& sender)
      : channels_(channels), connections_(connections), sender_(sender) {}

  // Sends `text` to this worker's subscribers of `channel` but `except` (or, when null, the
  // connection `except_socket_id`), and to those of the wildcard `patterns` matching it when
  // given. `roster_version` numbers a presence member event (0: any other event).
  void deliver_local(const App& app, const std::string& channel, std::string_view text, const Connection* except,
                     std::string_view except_socket_id, uint64_t roster_version,
                     const std::vector<std::string>* patterns = nullptr);
  // Sends an event published to `channel` to this worker's subscribers of `patterns`.
  void deliver_to_patterns(const App& app, const std::string& channel, std::string_view text,
                           const Connection* except, const std::vector<std::string>& patterns);

 private:
  ChannelTable& channels_;
  const ConnectionTable& connections_;
  Sender& sender_;
};

}  // namespace raptor
