// Readiness (docs/cluster.md#readiness): a node of a cluster takes WebSocket traffic only once
// its cluster link is whole (core/node_readiness.h). A connection opened before is held: it gets
// no connection_established, so a Pusher client sends nothing yet (a client that does has its
// messages kept, in order), and is established when the node becomes ready, its messages then
// handled as if they had just arrived. Holding rather than refusing: a client that reached the
// node early (a balancer without health checks, a client pinned to the node) loses nothing and
// waits at most the start-up wait.
#include "core/engine.h"

#include "protocol/errors.h"
#include "protocol/messages.h"

namespace raptor {
namespace {

// Messages a held connection may send before it is established; a Pusher client sends none.
constexpr size_t kMaxHeldMessages = 100;

}  // namespace

bool Engine::ready() const {
  NodeReadiness& readiness = hub_.readiness();
  return readiness.ready() || readiness.update(hub_.cluster_status(), hub_.webhooks(), clock_());
}

std::string Engine::waiting_for() const {
  return ready() ? std::string() : NodeReadiness::waiting_for(hub_.cluster_status(), hub_.webhooks());
}

void Engine::check_readiness() {
  if (!ready() || held_.empty()) return;
  auto held = std::move(held_);
  held_.clear();
  for (auto& [socket_id, messages] : held) {
    auto owned = connections_.find(socket_id);
    if (owned == connections_.end()) continue;  // closed meanwhile
    Connection& c = *owned->second;
    if (c.closing()) continue;
    send(c, messages::connection_established(c.socket_id(), limits_.activity_timeout_s));
    for (const std::string& text : messages) on_message(c, text);
  }
}

bool Engine::hold_message(Connection& c, std::string_view text) {
  auto held = held_.find(c.socket_id());
  if (held == held_.end()) return false;
  if (held->second.size() >= kMaxHeldMessages) {
    close(c, code(CloseCode::OverCapacity), "Too many messages before the connection was established");
    return true;
  }
  held->second.emplace_back(text);
  return true;
}

}  // namespace raptor
