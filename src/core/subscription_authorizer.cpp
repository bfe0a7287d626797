#include "core/subscription_authorizer.h"

#include "core/policy_refusal.h"
#include "core/presence_roster.h"
#include "protocol/channel_data.h"
#include "protocol/channel_kind.h"
#include "protocol/channel_name.h"
#include "protocol/channel_pattern.h"
#include "protocol/errors.h"
#include "protocol/messages.h"
#include "protocol/signature.h"

namespace raptor {
namespace {

using Kind = PolicyVerdict::Kind;

SubscriptionRefusal refusal(std::string type, int status, ErrorCode error, std::string message) {
  return {std::move(type), status, code(error), std::move(message)};
}

SubscriptionRefusal auth_error(int status, std::string message) {
  return refusal("AuthError", status, ErrorCode::Unauthorized, std::move(message));
}

// The channel_data a subscription to this kind is signed with: a presence channel's, else none.
std::optional<std::string_view> signed_channel_data(const ChannelKind& kind, const messages::ClientMessage& m) {
  return kind.presence ? m.channel_data : std::nullopt;
}

std::string string_to_sign(const Connection& c, const std::string& spelled, const ChannelKind& kind,
                           const messages::ClientMessage& m) {
  return signature::subscription_string_to_sign(c.socket_id(), spelled, signed_channel_data(kind, m));
}

// Whether the subscription carries a valid signature for `spelled`, as the usual rules check it.
bool signature_valid(const Connection& c, const std::string& spelled, const ChannelKind& kind,
                     const messages::ClientMessage& m) {
  if (kind.auth != ChannelAuth::Signature || (kind.presence && !m.channel_data)) return false;
  return signature::verify_auth(m.auth.value_or(""), c.app().key, c.app().secret, string_to_sign(c, spelled, kind, m));
}

PolicyVerdict denial(std::string reason) {
  PolicyVerdict v;
  v.kind = Kind::Deny;
  v.reason = std::move(reason);
  return v;
}

}  // namespace

Authorization SubscriptionAuthorizer::authorize(const Connection& c, const std::string& channel,
                                                const std::string& spelled, const messages::ClientMessage& m) const {
  const ChannelKind& kind = channel_kind(channel);
  const App& app = c.app();
  Authorization a;
  std::optional<bool> signed_privilege;  // channel_data's "privileged", when signed
  PolicyVerdict verdict = authorize_by_policy(c, channel, spelled, m);
  if (verdict.kind == Kind::Deny) {
    a.refusal = auth_error(403, verdict.reason);
    return a;
  }
  bool allowed = verdict.kind == Kind::Allow;
  if (allowed && verdict.user_id) {
    a.user_id = *verdict.user_id;
    a.user_info = verdict.user_info.value_or("null");
  }
  if (kind.auth == ChannelAuth::Signature && !allowed) {
    if (kind.presence && !m.channel_data) {
      a.refusal = auth_error(401, "Presence subscription needs channel_data");
      return a;
    }
    // What the app's auth endpoint was given: the channel as the client spelled it.
    std::string to_sign = string_to_sign(c, spelled, kind, m);
    if (!signature::verify_auth(m.auth.value_or(""), app.key, app.secret, to_sign)) {
      a.refusal = auth_error(401, "Invalid signature: expected HMAC-SHA256 of \"" + to_sign + "\" as key:hex");
      return a;
    }
    if (auto channel_data = signed_channel_data(kind, m)) {
      ChannelData member;
      if (auto why = parse_channel_data(*channel_data, {app.max_user_id_length, app.max_user_info_bytes}, member)) {
        a.refusal = why->over_limit ? refusal("LimitReached", 403, ErrorCode::LimitReached, why->message)
                                    : auth_error(401, why->message);
        return a;
      }
      a.user_id = std::move(member.user_id);
      a.user_info = std::move(member.user_info);
      signed_privilege = member.privileged;
    }
  }
  a.privileged = kind.presence && member_privileged(channel, verdict.privileged, signed_privilege);
  if (policy_ && policy_->has(app, Policy::Hook::ChannelRules)) a.refusal = subscription_permitted(c, channel, spelled, m, a);
  return a;
}

PolicyVerdict SubscriptionAuthorizer::authorize_by_policy(const Connection& c, const std::string& channel,
                                                          const std::string& spelled,
                                                          const messages::ClientMessage& m) const {
  if (!policy_ || !policy_->has(c.app(), Policy::Hook::Authorize)) return {};
  const ChannelKind& kind = channel_kind(channel);
  bool signed_ok = signature_valid(c, spelled, kind, m);
  PolicyVerdict v = policy_->authorize(
      {c.app(), c.socket_id(), c.handshake(), channel, signed_ok, signed_channel_data(kind, m).value_or("")});
  if (v.kind == Kind::Deny) return denial(policy_refusal("Subscription", v));
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

std::optional<SubscriptionRefusal> SubscriptionAuthorizer::subscription_permitted(const Connection& c,
                                                                                  const std::string& channel,
                                                                                  const std::string& spelled,
                                                                                  const messages::ClientMessage& m,
                                                                                  Authorization& a) const {
  const ChannelKind& kind = channel_kind(channel);
  PermissionRequest request{Permission::Subscribe, c.app(), c.socket_id(), c.handshake(), channel};
  request.signed_ok = signature_valid(c, spelled, kind, m);
  request.channel_data = signed_channel_data(kind, m).value_or("");
  request.user_id = a.user_id;
  if (!a.user_id.empty()) request.user_info = a.user_info;
  request.privileged = a.privileged;
  PolicyVerdict v = policy_->permit(request);
  if (v.kind == Kind::Deny) return auth_error(403, policy_refusal("Subscription", v));
  if (!kind.presence) return std::nullopt;
  request.permission = Permission::Roster;
  v = policy_->permit(request);
  if (v.kind != Kind::Pass) a.privileged = v.kind == Kind::Allow;  // a failed rule does not grant it
  return std::nullopt;
}

std::optional<SubscriptionRefusal> SubscriptionAuthorizer::invalid_name(const std::string& channel) {
  if (is_valid_channel_name(channel)) return std::nullopt;
  return refusal("InvalidChannel", 400, ErrorCode::InvalidChannel,
                 "Invalid channel name: use up to 200 of A-Z a-z 0-9 _ - = @ , . ;");
}

std::optional<SubscriptionRefusal> SubscriptionAuthorizer::pattern_refusal(const Connection& c,
                                                                           const std::string& pattern, bool new_one) {
  // Some kinds cannot be subscribed by pattern (presence channels have a roster each, which a
  // pattern cannot join; protocol/channel_kind.h says why for each). Told before the syntax,
  // which for these would only be a distraction.
  if (const ChannelKind& kind = channel_kind(pattern); kind.patterns != Patterns::Subscribe)
    return refusal("InvalidChannel", 400, ErrorCode::InvalidChannel, std::string(kind.no_patterns));
  if (auto why = wildcard_pattern_error(pattern))
    return refusal("InvalidChannel", 400, ErrorCode::InvalidChannel, "Invalid wildcard pattern: " + *why);
  if (new_one && c.subscriptions().patterns() >= kMaxPatternsPerConnection)
    return refusal("LimitReached", 403, ErrorCode::LimitReached,
                   "A connection may hold at most " + std::to_string(kMaxPatternsPerConnection) +
                       " wildcard subscriptions");
  return std::nullopt;
}

SubscriptionRefusal SubscriptionAuthorizer::over_rate(uint32_t per_second) {
  // Pusher's rate-limit code; the connection stays open.
  return refusal("LimitReached", 429, ErrorCode::RateLimited,
                 "Subscription rejected: more than " + std::to_string(per_second) + " subscriptions per second");
}

SubscriptionRefusal SubscriptionAuthorizer::over_count(size_t max_subscriptions) {
  return refusal("LimitReached", 403, ErrorCode::LimitReached,
                 "A connection may hold at most " + std::to_string(max_subscriptions) +
                     " subscriptions: unsubscribe from one first");
}

SubscriptionRefusal SubscriptionAuthorizer::presence_full(const App& app) {
  return refusal("LimitReached", 403, ErrorCode::LimitReached,
                 "Presence channel is full (" + std::to_string(app.max_presence_members) + " members)");
}

SubscriptionRefusal SubscriptionAuthorizer::not_that_user() {
  return auth_error(401, "#server-to-user- channels are only for the connection signed in as that user (pusher:signin)");
}

}  // namespace raptor
