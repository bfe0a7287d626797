// Publishing (docs/http-api.md): POST /apps/{id}/events, /batch_events, the deprecated
// /channels/{name}/events, and POST to a channel's URL resource (/channels/{type}/…).
#pragma once
#include "http/endpoints/endpoint.h"

namespace raptor::http {

void publish_events(const AppCall& call, const Respond& respond);
void publish_batch(const AppCall& call, const Respond& respond);
// The deprecated one: name and socket_id in the query, the raw data as the body; 202 as Pusher answered it.
void publish_to_channel(const AppCall& call, const Respond& respond);
// POST /channels/…: the event's name and data (and optional socket_id, info) as the body; the
// channel (call.name) is the address, so the body may not name one.
void publish_to_resource(const AppCall& call, const Respond& respond);

}  // namespace raptor::http
