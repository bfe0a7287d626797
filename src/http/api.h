// The Pusher HTTP API (/apps/{id}/...) and Raptor's health check, over the engine.
// A pure function of the request: net/ collects the request and writes the response.
#pragma once
#include <cstdint>

#include "core/engine.h"
#include "http/request.h"

namespace raptor::http {

constexpr size_t kMaxBodyBytes = 1 << 20;  // larger bodies get 413 before they are read whole
constexpr size_t kMaxChannelsPerEvent = 100;
constexpr size_t kMaxBatchEvents = 10;
constexpr size_t kMaxEventNameLength = 200;

Response handle(Engine& engine, const Request& req, int64_t now_s);

// {"error":message} with `status`.
Response error(int status, std::string_view message);

}  // namespace raptor::http
