// The channel_data of a presence subscription: a JSON object (sent as a string and signed as
// such) with the member's `user_id`, optional `user_info` and, for privileged channels, whether
// the member is `privileged`.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace raptor {

struct ChannelData {
  std::string user_id;            // a string, or an integer a double holds exactly, as text
  std::string user_info = "null";  // JSON text as sent
  std::optional<bool> privileged;  // when given
};

struct ChannelDataLimits {
  size_t max_user_id_length;
  size_t max_user_info_bytes;
};

// Why channel_data was refused, for the client: not a member at all (`over_limit` false), or a
// member whose id or info breaks a limit.
struct ChannelDataError {
  bool over_limit;
  std::string message;
};

// Reads `text` into `out`; nullopt when valid.
std::optional<ChannelDataError> parse_channel_data(std::string_view text, const ChannelDataLimits& limits,
                                                   ChannelData& out);

}  // namespace raptor
