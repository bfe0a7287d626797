// protocol/socket_id: two decimal integers joined by a dot, as the Pusher SDKs require.
#include "protocol/socket_id.h"

#include <string>

#include "support.h"

using namespace raptor;

TEST_CASE("is_valid_socket_id accepts digits.digits", "[socket_id]") {
  for (const char* ok : {"1.2", "123.456", "0.0", "264774.13368624", "45481.3166671"}) {
    INFO("socket id '" << ok << "'");
    CHECK(is_valid_socket_id(ok));
  }
}

TEST_CASE("is_valid_socket_id rejects every other shape", "[socket_id]") {
  for (const char* bad : {"", ".", "1.", ".2", "12", "1.2.3", "a.b", "1.2a", "-1.2", " 1.2", "1.2 ", "1,2", "1..2",
                          "+1.2", "1.-2", "１.2"}) {
    INFO("socket id '" << bad << "'");
    CHECK_FALSE(is_valid_socket_id(bad));
  }
  CHECK_FALSE(is_valid_socket_id(std::string_view("1.2\0", 4)));
}

TEST_CASE("is_valid_socket_id caps the length at 41 characters", "[socket_id]") {
  std::string twenty(20, '9');
  CHECK(is_valid_socket_id(twenty + "." + twenty));          // 41
  CHECK_FALSE(is_valid_socket_id(twenty + "9." + twenty));   // 42
  CHECK(is_valid_socket_id(std::string(39, '1') + ".2"));
  CHECK_FALSE(is_valid_socket_id(std::string(40, '1') + ".2"));
}
