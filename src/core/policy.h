// The operator's policy, as core asks it: admit a connection, authorize a subscription, filter
// a client event, apply a channel's rules, shape a webhook event. core owns this interface and
// stays free of any scripting; script/ implements it with the Ruby hooks of raptor.rb (one
// instance per worker, called on that worker's thread).
// Each question is only asked when has() says the app has a hook for it.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/app.h"

namespace raptor {

// What a WebSocket connection showed when it opened; kept with the connection for later hooks.
struct Handshake {
  std::string path;
  std::string origin;  // empty when the request had none
  std::string remote_address;
  std::vector<std::pair<std::string, std::string>> params;   // the query string, decoded
  std::vector<std::pair<std::string, std::string>> headers;  // lower-case names
};

struct PolicyVerdict {
  enum class Kind {
    Pass,     // no opinion: the usual rules decide
    Allow,    // allow (a subscription: even without a valid signature)
    Deny,     // refuse, telling the client `reason` (or a generic reason when empty)
    Drop,     // client events, webhook events: discard silently
    Rewrite,  // client events: send `data` instead; webhook events: send the event `data`
  };
  Kind kind = Kind::Pass;
  bool failed = false;  // Deny because the hook failed; the error was logged
  std::string reason;
  std::optional<std::string> user_id;    // Allow on a presence channel: the member to join as
  std::optional<std::string> user_info;  // JSON text
  std::optional<bool> privileged;        // Allow on a presence channel: the member's privilege, when given
  std::string data;                      // Rewrite: JSON text (webhook events: a JSON object)
};

struct SubscriptionRequest {
  const App& app;
  const std::string& socket_id;
  const Handshake* handshake;  // null when the connection was opened without one
  std::string_view channel;
  bool signed_ok;                 // the auth string is a valid signature for this subscription
  std::string_view channel_data;  // JSON text the client sent for presence, else empty
};

struct ClientEventRequest {
  const App& app;
  const std::string& socket_id;
  const Handshake* handshake;
  std::string_view channel;
  std::string_view event;
  std::string_view data;     // JSON text
  std::string_view user_id;  // the sender's presence user id on the channel, else empty
};

// raptor.rb's channel rules (`channel "pattern" do … end`): per channel or pattern, who may
// subscribe, who may send client events, who sees a presence channel's roster.
enum class Permission { Subscribe, ClientEvents, Roster };

struct PermissionRequest {
  Permission permission;
  const App& app;
  const std::string& socket_id;
  const Handshake* handshake;
  std::string_view channel;
  bool signed_ok = false;              // Subscribe, Roster: the subscription carried a valid signature
  std::string_view channel_data = {};  // Subscribe, Roster: JSON text the client sent for presence
  std::string_view user_id = {};       // the presence member (the joiner, or the sender), else empty
  std::string_view user_info = {};     // its JSON text, else empty
  bool privileged = false;             // the member's privilege so far (core/presence_roster.h)
  std::string_view event = {};         // ClientEvents: "client-…"
  std::string_view data = {};          // ClientEvents: JSON text
};

// A webhook event on its way to the app's receivers, before it is batched and signed.
struct WebhookShapeRequest {
  const App& app;
  std::string_view event;  // the event as a receiver would get it: a JSON object ({"name":…,"channel":…})
};

class Policy {
 public:
  enum class Hook { Admit, Authorize, FilterClientEvents, ChannelRules, ShapeWebhook };
  virtual ~Policy() = default;
  virtual bool has(const App& app, Hook hook) const = 0;
  virtual PolicyVerdict admit(const App& app, const Handshake& handshake) = 0;
  virtual PolicyVerdict authorize(const SubscriptionRequest& request) = 0;
  virtual PolicyVerdict filter_client_event(const ClientEventRequest& request) = 0;
  // The channel rules' answer: Allow, Deny (with a reason) or Pass when no rule for this
  // permission covers the channel or every one that does passed.
  virtual PolicyVerdict permit(const PermissionRequest& request) = 0;
  // Pass or Allow: send as is; Drop or Deny: do not send; Rewrite: send `data` instead. A hook
  // that fails answers Pass with `failed` set (the event goes out unchanged; see webhook_queue.h).
  virtual PolicyVerdict shape_webhook(const WebhookShapeRequest& request) = 0;
};

}  // namespace raptor
