// The hooks of raptor.rb, one row each (the model: Redis's command table). Everything that lists
// hooks reads this table: the engine (whether handshakes are read and kept), script/ (the DSL
// methods, the request classes and their readers, the answers accepted, Policy::has), and
// `raptor check`. Adding a hook: a row here, its call in script/ruby_policy.cpp and the engine's
// question in core/policy.h, and tests; a new request reader: its getter in
// script/hook_request.cpp.
#pragma once
#include <optional>
#include <string_view>

#include "core/app.h"
#include "core/policy.h"

namespace raptor {

// What a hook needs of the WebSocket handshake: nothing; to decide on it (read before the
// connection is admitted); or for later requests of the connection (read and kept with it).
enum class HandshakeUse { None, Admission, Kept };

// How a request reaches Ruby: a window onto the C++ request whose readers build their value
// when first asked (script/hook_request.cpp), or a Hash-like copy of a JSON object that the
// hook may change and return (mrblib/requests.rb).
enum class RequestForm { Window, Copy };

struct HookSpec {
  std::string_view name;  // its method in raptor.rb; logs and `raptor check` name it so
  Policy::Hook hook;      // what Policy::has is asked for it
  // A permission of a channel rule (`channel "pattern" do |rule| rule.subscribe { … } end`),
  // else a hook of an app block or of the top level.
  std::optional<Permission> permission;
  HandshakeUse handshake;
  std::string_view request;  // the class of the object its block is handed (Raptor::…)
  RequestForm form;
  std::string_view fields;   // the request's readers, space separated, as Ruby names them
  std::string_view answers;  // the verdicts it may give (mrblib/verdicts.rb)
};

inline constexpr std::string_view kConnectionFields = "app_id origin remote_address path params headers";
inline constexpr std::string_view kSubscriptionFields =
    "app_id origin remote_address path params headers socket_id channel channel_data signed? user_id user_info "
    "privileged? presence? private? public?";
inline constexpr std::string_view kClientEventFields =
    "app_id origin remote_address path params headers socket_id channel event data user_id user_info privileged?";
inline constexpr std::string_view kWebhookEventFields = "app_id name channel user_id event data socket_id subscription_count";

// clang-format off
inline constexpr HookSpec kHooks[] = {
  // name                   reported as                         channel rule              handshake                 request         form                 fields               answers
  {"admit",                 Policy::Hook::Admit,                std::nullopt,             HandshakeUse::Admission, "Connection",   RequestForm::Window, kConnectionFields,   "allow deny pass"},
  {"authorize",             Policy::Hook::Authorize,            std::nullopt,             HandshakeUse::Kept,      "Subscription", RequestForm::Window, kSubscriptionFields, "allow deny pass"},
  {"filter_client_events",  Policy::Hook::FilterClientEvents,   std::nullopt,             HandshakeUse::Kept,      "ClientEvent",  RequestForm::Window, kClientEventFields,  "allow deny pass drop rewrite"},
  {"shape_webhook",         Policy::Hook::ShapeWebhook,         std::nullopt,             HandshakeUse::None,      "WebhookEvent", RequestForm::Copy,   kWebhookEventFields, "allow deny pass drop rewrite"},
  {"subscribe",             Policy::Hook::ChannelRules,         Permission::Subscribe,    HandshakeUse::Kept,      "Subscription", RequestForm::Window, kSubscriptionFields, "allow deny pass"},
  {"client_events",         Policy::Hook::ChannelRules,         Permission::ClientEvents, HandshakeUse::Kept,      "ClientEvent",  RequestForm::Window, kClientEventFields,  "allow deny pass"},
  {"roster",                Policy::Hook::ChannelRules,         Permission::Roster,       HandshakeUse::Kept,      "Subscription", RequestForm::Window, kSubscriptionFields, "allow deny pass"},
};
// clang-format on

// The row of an app hook, or of a channel rule's permission.
const HookSpec& hook_spec(Policy::Hook hook);
const HookSpec& hook_spec(Permission permission);

// The most any of `policy`'s hooks for `app` needs of the handshake (None without a policy).
HandshakeUse handshake_use(const Policy* policy, const App& app);

}  // namespace raptor
