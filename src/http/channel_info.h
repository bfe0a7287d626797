// The `info` parameter of the channel reads and of publishing (user_count, subscription_count,
// cache) and the attributes object it asks for, e.g. {"user_count":2,"subscription_count":3}.
#pragma once
#include <string>
#include <string_view>

#include "core/channel_directory.h"
#include "core/cluster_bus.h"

namespace raptor::http {

// Which optional attributes an `info` parameter asks for; unknown items are ignored, as Pusher does.
struct InfoRequest {
  bool user_count = false;
  bool subscription_count = false;
  bool cache = false;  // GET /channels/{name} only
};

InfoRequest parse_info(std::string_view info);
// The attributes object of one channel, from this node's view or from the cluster's counts.
std::string attributes_json(const ChannelSnapshot& snap, const InfoRequest& info);
std::string attributes_json(const ChannelCounts& counts, const InfoRequest& info);

}  // namespace raptor::http
