// The channel reads (docs/http-api.md): GET /apps/{id}/channels, /channels/{name},
// /channels/{name}/users, and GET on a channel's URL resource. Alone, a node answers from its own
// view at once; on a node of a cluster they ask Redis on the worker's loop and answer when it
// replies, or from this node's view (saying so in X-Raptor-Scope) when it is unreachable or slower
// than the deadline (docs/cluster.md#http-api-answers).
#pragma once
#include "http/endpoints/endpoint.h"

namespace raptor::http {

void list_channels(const AppCall& call, const Respond& respond);
void show_channel(const AppCall& call, const Respond& respond);
void channel_users(const AppCall& call, const Respond& respond);
// GET /channels/…: whether the channel is occupied, and all its counts.
void channel_state(const AppCall& call, const Respond& respond);

}  // namespace raptor::http
