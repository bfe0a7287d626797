// The user_data of pusher:signin: a JSON object (sent as a string and signed as such) with the
// user's `id`, optional `user_info` and an optional `watchlist` of user ids to follow.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace raptor {

constexpr size_t kMaxWatchlistLength = 100;  // Pusher's limit; beyond it the first 100 count (4302)

struct UserData {
  std::string id;
  std::vector<std::string> watchlist;  // at most kMaxWatchlistLength, duplicates removed
  bool watchlist_truncated = false;    // the client sent more than kMaxWatchlistLength
};

struct UserDataLimits {
  size_t max_id_length;
  size_t max_user_info_bytes;
};

// Reads `text` into `out`; nullopt when valid, else what is wrong (for the client).
std::optional<std::string> parse_user_data(std::string_view text, const UserDataLimits& limits, UserData& out);

}  // namespace raptor
