// protocol/channel_name: allowed characters and the 200-character limit (kinds: test_channel_kind.cpp).
#include "protocol/channel_name.h"

#include <string>

#include "support.h"

using namespace raptor;

TEST_CASE("is_valid_channel_name accepts exactly the Pusher name characters", "[channel_name]") {
  CHECK(is_valid_channel_name("abcXYZ019_-=@,.;"));
  CHECK(is_valid_channel_name("a"));
  CHECK(is_valid_channel_name("private-encrypted-x"));
  for (char ch : std::string(" #/:*!?\"'\\+%&$()[]{}<>|~^`\t\n")) {
    INFO("character " << int(ch));
    CHECK_FALSE(is_valid_channel_name(std::string("abc") + ch + "def"));
  }
  CHECK_FALSE(is_valid_channel_name(""));
  CHECK_FALSE(is_valid_channel_name(std::string("ab\0cd", 5)));
  CHECK_FALSE(is_valid_channel_name("caf\xc3\xa9"));  // non-ASCII
}

TEST_CASE("is_valid_channel_name allows 200 characters, not 201", "[channel_name]") {
  CHECK(kMaxChannelNameLength == 200);
  CHECK(is_valid_channel_name(std::string(200, 'a')));
  CHECK_FALSE(is_valid_channel_name(std::string(201, 'a')));
  CHECK(is_valid_channel_name("presence-" + std::string(191, 'x')));
  CHECK_FALSE(is_valid_channel_name("presence-" + std::string(192, 'x')));
}

TEST_CASE("server-to-user names only where internal names are allowed", "[channel_name]") {
  CHECK_FALSE(is_valid_channel_name("#server-to-user-42"));
  CHECK(is_valid_channel_name("#server-to-user-42", true));
  CHECK(is_valid_channel_name("#server-to-user-a_b@c.d", true));
  CHECK_FALSE(is_valid_channel_name("#server-to-user-", true));   // no id
  CHECK_FALSE(is_valid_channel_name("#server-to-user-4#2", true));
  CHECK_FALSE(is_valid_channel_name("#server-to-user-a b", true));
  CHECK_FALSE(is_valid_channel_name("#other-42", true));           // only that internal prefix
  CHECK_FALSE(is_valid_channel_name("#server-to-user-" + std::string(185, '1'), true));
  CHECK(is_valid_channel_name("#server-to-user-" + std::string(184, '1'), true));
  // Ordinary names stay valid with the flag.
  CHECK(is_valid_channel_name("private-x", true));
}
