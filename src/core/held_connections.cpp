#include "core/held_connections.h"

#include "protocol/errors.h"

namespace raptor {
namespace {

// Messages a held connection may send before it is established; a Pusher client sends none.
constexpr size_t kMaxHeldMessages = 100;

}  // namespace

bool HeldConnections::ready() const {
  NodeReadiness& readiness = hub_.readiness();
  return readiness.ready() || readiness.update(hub_.cluster_status(), hub_.webhooks(), clock_());
}

std::string HeldConnections::waiting_for() const {
  return ready() ? std::string() : NodeReadiness::waiting_for(hub_.cluster_status(), hub_.webhooks());
}

void HeldConnections::release(const Establish& establish) {
  if (!ready() || held_.empty()) return;
  auto held = std::move(held_);
  held_.clear();
  for (auto& [socket_id, sent] : held) {
    auto owned = connections_.find(socket_id);
    if (owned == connections_.end()) continue;  // closed meanwhile
    Connection& c = *owned->second;
    if (c.closing()) continue;
    establish(c, sent);
  }
}

bool HeldConnections::hold_message(Connection& c, std::string_view text) {
  if (held_.empty()) return false;
  auto held = held_.find(c.socket_id());
  if (held == held_.end()) return false;
  if (held->second.size() >= kMaxHeldMessages) {
    sender_.close(c, code(CloseCode::OverCapacity), "Too many messages before the connection was established");
    return true;
  }
  held->second.emplace_back(text);
  return true;
}

}  // namespace raptor
