// What the tests of the parts that judge client messages (SubscriptionAuthorizer,
// ClientEventGate) hand them: a client frame as the engine reads it (protocol/messages.h), with
// the text its views point into, and a policy with one hook.
#pragma once
#include <catch2/catch.hpp>

#include <string>

#include "protocol/messages.h"
#include "support.h"

namespace raptor::test {

struct ClientFrame {
  std::string text;
  messages::ClientMessage m;
  explicit ClientFrame(std::string frame) : text(std::move(frame)) {
    REQUIRE(messages::parse_client_message(text, m));
  }
};

// A policy with only `hook`, which gives `answer` to whatever it is asked.
struct OneHookPolicy : PassingPolicy {
  Hook hook;
  PolicyVerdict answer;
  explicit OneHookPolicy(Hook h) : hook(h) {}
  bool has(const App&, Hook h) const override { return h == hook; }
  PolicyVerdict authorize(const SubscriptionRequest&) override { return answer; }
  PolicyVerdict filter_client_event(const ClientEventRequest&) override { return answer; }
};

}  // namespace raptor::test
