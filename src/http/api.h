// The Pusher HTTP API (/apps/{id}/...) and Raptor's health check, over the engine.
// net/ collects the request and writes the response. Every answer is a function of the request
// and the engine's state, given at once, except on a node of a cluster the channel reads
// (channels, channel, users, GET /channels/…): those ask Redis on the worker's loop and answer
// when it replies, or from this node's own view when it is unreachable or slower than the
// deadline (docs/cluster.md#http-api-answers). The X-Raptor-Scope header says which.
#pragma once
#include <cstdint>
#include <functional>

#include "core/engine.h"
#include "http/request.h"
#include "protocol/messages.h"

namespace raptor::http {

constexpr size_t kMaxBodyBytes = 1 << 20;  // larger bodies get 413 before they are read whole
constexpr size_t kMaxChannelsPerEvent = 100;
constexpr size_t kMaxBatchEvents = 10;

// Cluster reads only: "cluster" when Redis answered, "node" when this node did.
constexpr const char* kScopeHeader = "X-Raptor-Scope";
constexpr const char* kScopeCluster = "cluster";
constexpr const char* kScopeNode = "node";
// Set ("true") on a cluster's channel list cut at its limit (Pusher has no paging).
constexpr const char* kTruncatedHeader = "X-Raptor-Truncated";

// Gets the answer, exactly once: before handle() returns, or later on the worker's thread (a
// cluster read), and never once the worker's cluster bus is being destroyed.
using Respond = std::function<void(Response)>;
void handle(Engine& engine, const Request& req, int64_t now_s, const Respond& respond);


}  // namespace raptor::http
