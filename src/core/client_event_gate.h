// Whether a client event (a `client-*` message) goes out, and with what data: the app allows
// client events, the name fits, the channel is concrete (not a pattern), its kind lets this
// subscriber send (protocol/channel_kind.h), the sender's rate and the data's size are within
// their limits, and the policy's client_events rule and filter_client_events hook agree (the
// hook may rewrite the data or drop the event silently). It sends nothing: the engine tells
// the sender a refusal and broadcasts what passes. Single-threaded: the worker's loop.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "core/channel_directory.h"
#include "core/connection.h"
#include "core/policy.h"

namespace raptor {

namespace messages {
struct ClientMessage;
}

struct ClientEventVerdict {
  enum class Kind { Send, Refuse, Drop };
  Kind kind = Kind::Send;
  int code = 0;  // Refuse: the pusher:error code and message for the sender
  std::string message;
  const Subscription* sub = nullptr;  // Send: the sender's subscription to the channel
};

class ClientEventGate {
 public:
  // `directory` gives a sender's presence user_info to the policy's rule.
  explicit ClientEventGate(const ChannelDirectory& directory) : directory_(directory) {}
  void set_policy(Policy* policy) { policy_ = policy; }

  // The verdict on `c` sending `m` to `channel` (its name, however the client spelled it) at
  // `now_ms`; takes one of the sender's client-event tokens when it gets that far. On Send,
  // `data` is what to send: the client's data (`{}` when it sent none), or the filter's
  // rewriting, kept in `rewritten`.
  ClientEventVerdict check(Connection& c, const messages::ClientMessage& m, const std::string& channel, int64_t now_ms,
                           std::string_view& data, std::string& rewritten) const;

 private:
  // The channel rules on a client event: a refusal when its client_events rule refuses.
  bool client_event_permitted(const Connection& c, const messages::ClientMessage& m, const std::string& channel,
                              const Subscription& sub, std::string_view data, ClientEventVerdict& v) const;
  // Runs the client-event filter: false when the event is not to be sent (refused, or dropped
  // silently); `data` may be pointed at `rewritten`.
  bool filtered_by_policy(const Connection& c, const messages::ClientMessage& m, const std::string& user_id,
                          std::string_view& data, std::string& rewritten, ClientEventVerdict& v) const;

  const ChannelDirectory& directory_;
  Policy* policy_ = nullptr;
};

}  // namespace raptor
