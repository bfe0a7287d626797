// The objects hooks are handed (Raptor::Connection, Subscription, ClientEvent; core/policy_hooks.h
// lists their readers): each a window onto the C++ request for the length of one hook call. A
// reader builds its Ruby value when first asked and keeps it, so a hook pays only for what it
// reads. After the call the window is closed: a request a script kept raises when it reads a
// value it had not read during the call.
#pragma once
#include <string_view>

#include <mruby.h>

#include "core/policy.h"

namespace raptor::script {

// What the readers read: views valid for the length of the call.
struct HookRequest {
  HookRequest(const App& app, const Handshake* handshake, std::string_view socket_id = {}, std::string_view channel = {})
      : app(app), handshake(handshake), socket_id(socket_id), channel(channel) {}

  const App& app;
  const Handshake* handshake;  // null: the connection kept none
  std::string_view socket_id, channel;
  bool signed_ok = false;         // Subscription: the auth string is a valid signature
  std::string_view channel_data;  // Subscription: JSON text the client sent for presence, else empty
  // The member the request concerns (a channel rule's, a client event's sender). Without one
  // (authorize), a Subscription's member is the one its signed channel_data names.
  bool has_member = false;
  std::string_view user_id;    // empty: none
  std::string_view user_info;  // JSON text, else empty
  bool privileged = false;
  std::string_view event, data;  // ClientEvent: the event's name and JSON data
};

// Defines the window classes and Raptor::HOOK_TABLE (core/policy_hooks.h's rows as Ruby values),
// before mrblib/ loads: mrblib builds the DSL, its checks and Raptor::WebhookEvent from the table.
void define_hook_requests(mrb_state* mrb);

// A window of `cls` (a class defined here) onto `request`; close_request() once the call returned.
mrb_value open_request(mrb_state* mrb, struct RClass* cls, const HookRequest& request);
void close_request(mrb_value window);

}  // namespace raptor::script
