#include "protocol/user_data.h"

#include <algorithm>

#include "protocol/channel_name.h"
#include "protocol/json.h"

namespace raptor {

std::optional<std::string> parse_user_data(std::string_view text, const UserDataLimits& limits, UserData& out) {
  auto root = json::parse(text);
  if (!cJSON_IsObject(root.get())) return "user_data must be a JSON object";
  // pusher-js requires a non-empty string id, and the id names a #server-to-user- channel.
  auto id = json::string_member(root.get(), "id");
  if (!id || id->empty() || id->size() > limits.max_id_length || !is_valid_user_id(*id))
    return "user_data.id must be a string of 1 to " + std::to_string(limits.max_id_length) +
           " of A-Z a-z 0-9 _ - = @ , . ;";
  out.id = *id;
  if (auto info = json::raw_member(text, "user_info"); info && info->size() > limits.max_user_info_bytes)
    return "user_data.user_info is larger than " + std::to_string(limits.max_user_info_bytes) + " bytes";

  const cJSON* watchlist = cJSON_GetObjectItemCaseSensitive(root.get(), "watchlist");
  if (!watchlist) return std::nullopt;
  if (!cJSON_IsArray(watchlist)) return "user_data.watchlist must be an array of user ids";
  const cJSON* item;
  cJSON_ArrayForEach(item, watchlist) {
    if (!cJSON_IsString(item) || !is_valid_user_id(item->valuestring) ||
        std::string_view(item->valuestring).size() > limits.max_id_length)
      return "user_data.watchlist must be an array of user ids";
  }
  cJSON_ArrayForEach(item, watchlist) {
    if (std::find(out.watchlist.begin(), out.watchlist.end(), item->valuestring) != out.watchlist.end()) continue;
    if (out.watchlist.size() == kMaxWatchlistLength) {
      out.watchlist_truncated = true;
      break;
    }
    out.watchlist.emplace_back(item->valuestring);
  }
  return std::nullopt;
}

}  // namespace raptor
