// Whether a connection may subscribe to a channel or wildcard pattern, and as whom: the rules of
// the channel's kind (protocol/channel_kind.h: anyone, a signature, the signed-in user), the
// signed channel_data of a presence member, the policy's authorize hook (which may allow,
// deny, or name the member itself) and its channel rules (subscribe, roster). It decides and
// changes nothing: the engine tells the client a refusal and makes a granted subscription.
// Single-threaded: the worker's loop (the policy's hooks run there).
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "core/connection.h"
#include "core/policy.h"

namespace raptor {

namespace messages {
struct ClientMessage;
}

// What a refused subscriber is told: pusher:error `code`, then pusher:subscription_error with
// `type` ("AuthError", "LimitReached", "InvalidChannel"), `status` and the message.
struct SubscriptionRefusal {
  std::string type;
  int status = 0;
  int code = 0;
  std::string message;
};

// The verdict on a subscription: a refusal, or the presence member it makes (user_id empty when
// none) and whether that member is privileged.
struct Authorization {
  std::optional<SubscriptionRefusal> refusal;
  std::string user_id;
  std::string user_info = "null";
  bool privileged = false;
};

class SubscriptionAuthorizer {
 public:
  // The operator's policy, or null (see Engine::set_policy).
  void set_policy(Policy* policy) { policy_ = policy; }

  // The verdict on `c` subscribing to `channel` (a channel name or a wildcard pattern), spelled
  // `spelled` by the client (and so signed by the app), with the subscribe message `m`.
  Authorization authorize(const Connection& c, const std::string& channel, const std::string& spelled,
                          const messages::ClientMessage& m) const;

  // Checks before any authorization, in the order the client is told of them.
  // A channel name that is not valid (refused under `channel`, as it names no subscription).
  static std::optional<SubscriptionRefusal> invalid_name(const std::string& channel);
  // A pattern that may not be subscribed: a kind that has no patterns, a pattern that is not
  // valid, or, for a `new_one`, the connection's limit of patterns reached.
  static std::optional<SubscriptionRefusal> pattern_refusal(const Connection& c, const std::string& pattern,
                                                            bool new_one);
  // Over the connection's subscribe rate, or its number of subscriptions.
  static SubscriptionRefusal over_rate(uint32_t per_second);
  static SubscriptionRefusal over_count(size_t max_subscriptions);
  // A presence channel (or, in a cluster, Redis) refusing a new member.
  static SubscriptionRefusal presence_full(const App& app);
  // A #server-to-user- channel subscribed by a connection not signed in as that user.
  static SubscriptionRefusal not_that_user();

 private:
  // The authorize hook's verdict, checked: a Deny carries the message for the client; an Allow
  // on a presence channel carries a valid member; Pass when there is no hook.
  PolicyVerdict authorize_by_policy(const Connection& c, const std::string& channel, const std::string& spelled,
                                    const messages::ClientMessage& m) const;
  // The channel rules on a subscription the usual rules (or authorize) allowed: a refusal when
  // its subscribe rule refuses; a roster rule sets the member's privilege.
  std::optional<SubscriptionRefusal> subscription_permitted(const Connection& c, const std::string& channel,
                                                            const std::string& spelled,
                                                            const messages::ClientMessage& m, Authorization& a) const;

  Policy* policy_ = nullptr;
};

}  // namespace raptor
