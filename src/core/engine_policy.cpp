// The engine's calls to the operator's policy (core/policy.h): what each hook is asked, and how
// its verdict is checked before the engine acts on it. The engine works the same without one.
#include "core/engine.h"

#include "core/policy_hooks.h"
#include "protocol/channel_kind.h"
#include "protocol/errors.h"
#include "protocol/messages.h"
#include "protocol/signature.h"

namespace raptor {
namespace {

using Kind = PolicyVerdict::Kind;

// The client-facing text of a refusal: the hook's reason, or a generic one when it gave none or
// failed (its error is in the log, not for the client).
std::string refusal(std::string_view what, const PolicyVerdict& v) {
  if (v.failed) return std::string(what) + " refused: policy error";
  return std::string(what) + " refused by policy" + (v.reason.empty() ? "" : ": " + v.reason);
}

// Whether the subscription carries a valid signature for `spelled` (the channel as the client
// spelled it), as the usual rules would check it.
bool signature_valid(const Connection& c, const std::string& spelled, const ChannelKind& kind,
                     const messages::ClientMessage& m) {
  if (kind.auth != ChannelAuth::Signature || (kind.presence && !m.channel_data)) return false;
  std::optional<std::string_view> channel_data = kind.presence ? m.channel_data : std::nullopt;
  return signature::verify_auth(m.auth.value_or(""), c.app().key, c.app().secret,
                                signature::subscription_string_to_sign(c.socket_id(), spelled, channel_data));
}

// The channel_data JSON text a presence subscription carries, else empty.
std::string_view channel_data_of(const ChannelKind& kind, const messages::ClientMessage& m) {
  return kind.presence ? m.channel_data.value_or("") : std::string_view();
}

PolicyVerdict denial(std::string reason) {
  PolicyVerdict v;
  v.kind = Kind::Deny;
  v.reason = std::move(reason);
  return v;
}

}  // namespace

void Engine::set_policy(Policy* policy) {
  policy_ = policy;
  wants_handshake_ = false;
  for (const App& app : apps_) wants_handshake_ = wants_handshake_ || handshake_use(policy_, app) != HandshakeUse::None;
}

bool Engine::admitted_by_policy(const App& app, const Handshake& handshake, Admission& refused) const {
  if (!policy_->has(app, Policy::Hook::Admit)) return true;
  PolicyVerdict v = policy_->admit(app, handshake);
  if (v.kind != Kind::Deny) return true;
  // 4009, Pusher's "connection is unauthorized": pusher-js does not reconnect on its own.
  refused = {nullptr, static_cast<int>(CloseCode::Unauthorized), refusal("Connection", v)};
  return false;
}

PolicyVerdict Engine::authorize_by_policy(Connection& c, const std::string& channel, const std::string& spelled,
                                          const messages::ClientMessage& m) {
  if (!policy_ || !policy_->has(c.app(), Policy::Hook::Authorize)) return {};
  const ChannelKind& kind = channel_kind(channel);
  bool signed_ok = signature_valid(c, spelled, kind, m);
  PolicyVerdict v = policy_->authorize({c.app(), c.socket_id(), c.handshake(), channel, signed_ok, channel_data_of(kind, m)});
  if (v.kind == Kind::Deny) return denial(refusal("Subscription", v));
  if (v.kind != Kind::Allow || !kind.presence) return v;
  // A presence member comes from the hook, or else from the signed channel_data (the usual path).
  if (!v.user_id) {
    if (signed_ok) {
      PolicyVerdict usual;  // the usual rules, with the hook's privilege when it gave one
      usual.privileged = v.privileged;
      return usual;
    }
    return denial("Subscription refused by policy: a presence channel needs a user_id from a signature or the policy");
  }
  const App& app = c.app();
  if (v.user_id->empty() || v.user_id->size() > app.max_user_id_length ||
      v.user_info.value_or("").size() > app.max_user_info_bytes)
    return denial("Subscription refused: the policy's user_id or user_info is empty or over its limit");
  return v;
}

bool Engine::filtered_by_policy(Connection& c, const messages::ClientMessage& m, const std::string& user_id,
                                std::string_view& data, std::string& rewritten) {
  if (!policy_ || !policy_->has(c.app(), Policy::Hook::FilterClientEvents)) return true;
  PolicyVerdict v =
      policy_->filter_client_event({c.app(), c.socket_id(), c.handshake(), m.channel, m.event, data, user_id});
  switch (v.kind) {
    case Kind::Pass:
    case Kind::Allow:
      return true;
    case Kind::Rewrite:
      rewritten = std::move(v.data);
      data = rewritten;
      return true;
    case Kind::Drop:
      return false;
    case Kind::Deny:
      send_error(c, code(ErrorCode::ClientEventRefused), refusal("Client event", v));
      return false;
  }
  return false;
}

bool Engine::subscription_permitted(Connection& c, const std::string& channel, const std::string& spelled,
                                    const messages::ClientMessage& m, const std::string& user_id,
                                    const std::string& user_info, bool& privileged) {
  const ChannelKind& kind = channel_kind(channel);
  PermissionRequest request{Permission::Subscribe, c.app(), c.socket_id(), c.handshake(), channel};
  request.signed_ok = signature_valid(c, spelled, kind, m);
  request.channel_data = channel_data_of(kind, m);
  request.user_id = user_id;
  if (!user_id.empty()) request.user_info = user_info;
  request.privileged = privileged;
  PolicyVerdict v = policy_->permit(request);
  if (v.kind == Kind::Deny) {
    refuse_subscription(c, spelled, "AuthError", 403, code(ErrorCode::Unauthorized), refusal("Subscription", v));
    return false;
  }
  if (!kind.presence) return true;
  request.permission = Permission::Roster;
  v = policy_->permit(request);
  if (v.kind != Kind::Pass) privileged = v.kind == Kind::Allow;  // a failed rule does not grant it
  return true;
}

bool Engine::client_event_permitted(Connection& c, const messages::ClientMessage& m, const std::string& channel,
                                    const Subscription& sub, std::string_view data) {
  PermissionRequest request{Permission::ClientEvents, c.app(), c.socket_id(), c.handshake(), channel};
  std::optional<std::string> user_info;
  if (!sub.user_id.empty()) user_info = hub_.directory().user_info(c.app(), channel, sub.user_id);
  request.user_id = sub.user_id;
  if (user_info) request.user_info = *user_info;
  request.privileged = sub.privileged;
  request.event = m.event;
  request.data = data;
  PolicyVerdict v = policy_->permit(request);
  if (v.kind != Kind::Deny) return true;
  send_error(c, code(ErrorCode::ClientEventRefused), refusal("Client event", v));
  return false;
}

}  // namespace raptor
