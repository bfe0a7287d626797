// Raptor's URL resources (/channels/{type}/…, DESIGN.md §1.2, protocol/channel_resource.h): the
// path names no app, the app is the one whose key signs the request. GET answers whether the
// channel is occupied and all its counts, or with a last segment "members" its roster; POST
// publishes to it.
#pragma once
#include <cstdint>

#include "http/endpoints/endpoint.h"

namespace raptor::http {

void route_resource(Engine& engine, const Request& req, int64_t now_s, const Respond& respond);

}  // namespace raptor::http
