// The channel-state script's reply (channel_state_reader.h) as the HTTP API's ChannelState:
// checked element by element, since a reply of another shape (a script of another version, an
// error) must not be taken for an answer. Used on the worker's thread; unit-tested.
#pragma once
#include <optional>

#include "core/cluster_bus.h"

struct redisReply;

namespace raptor::cluster {

// Channel: {subscriptions, members}. Users: the user ids (sorted here). List: {truncated,
// name, subscriptions, members, name, …} (sorted by name here). Nullopt for any other shape.
std::optional<ChannelState> channel_state_of(const ChannelQuery& query, const redisReply& reply);

}  // namespace raptor::cluster
