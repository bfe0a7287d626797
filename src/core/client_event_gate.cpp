#include "core/client_event_gate.h"

#include "core/policy_refusal.h"
#include "protocol/channel_kind.h"
#include "protocol/channel_pattern.h"
#include "protocol/errors.h"
#include "protocol/messages.h"

namespace raptor {
namespace {

using Kind = PolicyVerdict::Kind;

ClientEventVerdict refused(ErrorCode error, std::string message) {
  return {ClientEventVerdict::Kind::Refuse, code(error), std::move(message), nullptr};
}

}  // namespace

ClientEventVerdict ClientEventGate::check(Connection& c, const messages::ClientMessage& m, const std::string& channel,
                                          int64_t now_ms, std::string_view& data, std::string& rewritten) const {
  const App& app = c.app();
  if (!app.client_events) return refused(ErrorCode::ClientEventRefused, "Client events are disabled for this app");
  if (m.event.size() > kMaxEventNameLength)
    return refused(ErrorCode::ClientEventRefused, "Client event names are at most 200 characters");
  if (names_pattern(channel))
    return refused(ErrorCode::ClientEventRefused,
                   "Client events cannot be sent to a wildcard pattern: trigger them on a concrete channel");
  const ChannelKind& kind = channel_kind(channel);
  if (kind.client_events == ClientEvents::Nobody)
    return refused(ErrorCode::ClientEventRefused, "Client events are only allowed on private and presence channels");
  const Subscription* sub = c.subscriptions().find(channel);
  if (!sub) return refused(ErrorCode::ClientEventRefused, "Client event refused: not subscribed to " + channel);
  if (kind.client_events == ClientEvents::PrivilegedMembers && !sub->privileged)
    return refused(ErrorCode::NotPrivileged,
                   "Client event refused: only privileged members may send client events on " + channel);
  if (!c.take_client_event_token(now_ms))
    return refused(ErrorCode::RateLimited,
                   "Client event rejected: more than " + std::to_string(app.client_events_per_second) + " per second");
  data = m.data_text.empty() ? std::string_view("{}") : m.data_text;
  if (data.size() > app.max_event_data_bytes)
    return refused(ErrorCode::PayloadTooLarge, "Event data is larger than 10240 bytes");
  ClientEventVerdict v;
  if (policy_ && policy_->has(app, Policy::Hook::ChannelRules) && !client_event_permitted(c, m, channel, *sub, data, v))
    return v;
  if (!filtered_by_policy(c, m, sub->user_id, data, rewritten, v)) return v;
  v.sub = sub;
  return v;
}

bool ClientEventGate::client_event_permitted(const Connection& c, const messages::ClientMessage& m,
                                             const std::string& channel, const Subscription& sub,
                                             std::string_view data, ClientEventVerdict& v) const {
  PermissionRequest request{Permission::ClientEvents, c.app(), c.socket_id(), c.handshake(), channel};
  std::optional<std::string> user_info;
  if (!sub.user_id.empty()) user_info = directory_.user_info(c.app(), channel, sub.user_id);
  request.user_id = sub.user_id;
  if (user_info) request.user_info = *user_info;
  request.privileged = sub.privileged;
  request.event = m.event;
  request.data = data;
  PolicyVerdict answer = policy_->permit(request);
  if (answer.kind != Kind::Deny) return true;
  v = refused(ErrorCode::ClientEventRefused, policy_refusal("Client event", answer));
  return false;
}

bool ClientEventGate::filtered_by_policy(const Connection& c, const messages::ClientMessage& m,
                                         const std::string& user_id, std::string_view& data, std::string& rewritten,
                                         ClientEventVerdict& v) const {
  if (!policy_ || !policy_->has(c.app(), Policy::Hook::FilterClientEvents)) return true;
  PolicyVerdict answer =
      policy_->filter_client_event({c.app(), c.socket_id(), c.handshake(), m.channel, m.event, data, user_id});
  switch (answer.kind) {
    case Kind::Pass:
    case Kind::Allow:
      return true;
    case Kind::Rewrite:
      rewritten = std::move(answer.data);
      data = rewritten;
      return true;
    case Kind::Drop:
      v.kind = ClientEventVerdict::Kind::Drop;
      return false;
    case Kind::Deny:
      v = refused(ErrorCode::ClientEventRefused, policy_refusal("Client event", answer));
      return false;
  }
  v.kind = ClientEventVerdict::Kind::Drop;
  return false;
}

}  // namespace raptor
