// A client frame as the engine reads it (protocol/messages.h), with the text its views point
// into: what the parts that judge client messages are handed in their tests.
#pragma once
#include <catch2/catch.hpp>

#include <string>

#include "protocol/messages.h"

namespace raptor::test {

struct ClientFrame {
  std::string text;
  messages::ClientMessage m;
  explicit ClientFrame(std::string frame) : text(std::move(frame)) {
    REQUIRE(messages::parse_client_message(text, m));
  }
};

}  // namespace raptor::test
