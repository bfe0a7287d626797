// protocol/channel_data: a presence subscription's member, as the client sent and signed it.
#include "protocol/channel_data.h"

#include "support.h"

using namespace raptor;

namespace {

const ChannelDataLimits kLimits{128, 1024};

}  // namespace

TEST_CASE("channel_data: the member's id (a string or an exact integer), info as sent, privileged", "[channel_data]") {
  ChannelData d;
  REQUIRE_FALSE(parse_channel_data(R"({"user_id":"u1","user_info":{ "name" : "A" },"privileged":true})", kLimits, d));
  CHECK(d.user_id == "u1");
  CHECK(d.user_info == R"({ "name" : "A" })");
  CHECK(d.privileged == std::optional<bool>(true));

  ChannelData n;
  REQUIRE_FALSE(parse_channel_data(R"({"user_id":42})", kLimits, n));
  CHECK(n.user_id == "42");
  CHECK(n.user_info == "null");
  CHECK_FALSE(n.privileged);
}

TEST_CASE("channel_data: not a member, or over a limit, says which", "[channel_data]") {
  ChannelData d;
  auto not_object = parse_channel_data("[1]", kLimits, d);
  REQUIRE(not_object);
  CHECK_FALSE(not_object->over_limit);
  CHECK(not_object->message == "channel_data must be a JSON object with a user_id");
  // Numbers no int64 holds (the fuzzer's 3.3e111 was cast before its range was checked: undefined,
  // which the ASan build's UBSan stops), and 2^53 + 1, which a double cannot hold exactly.
  for (const char* text : {R"({"user_id":1.5})", R"({"user_id":""})", R"({})", R"({"user_id":3.33e111})",
                           R"({"user_id":-1e300})", R"({"user_id":1e400})", R"({"user_id":9007199254740993})"}) {
    ChannelData bad;
    auto why = parse_channel_data(text, kLimits, bad);
    REQUIRE(why);
    CHECK(why->over_limit);
  }
  ChannelData big;
  auto why = parse_channel_data(R"({"user_id":"u","user_info":")" + std::string(1100, 'x') + "\"}", kLimits, big);
  REQUIRE(why);
  CHECK(why->message == "channel_data.user_info is larger than 1024 bytes");
}
