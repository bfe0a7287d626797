#include "protocol/channel_data.h"

#include <cstdint>

#include "protocol/json.h"

namespace raptor {

std::optional<ChannelDataError> parse_channel_data(std::string_view text, const ChannelDataLimits& limits,
                                                   ChannelData& out) {
  auto parsed = json::parse(text);
  if (!cJSON_IsObject(parsed.get())) return ChannelDataError{false, "channel_data must be a JSON object with a user_id"};
  const cJSON* id = cJSON_GetObjectItemCaseSensitive(parsed.get(), "user_id");
  if (cJSON_IsString(id)) {
    out.user_id = id->valuestring;
  } else if (cJSON_IsNumber(id) && id->valuedouble < 9007199254740992.0 && id->valuedouble > -9007199254740992.0 &&
             id->valuedouble == double(int64_t(id->valuedouble))) {  // the range first: a cast out of it is undefined
    out.user_id = std::to_string(int64_t(id->valuedouble));  // only integers a double holds exactly
  }
  if (out.user_id.empty() || out.user_id.size() > limits.max_user_id_length)
    return ChannelDataError{true, "channel_data.user_id must be a string of 1 to 128 characters or an integer"};
  if (auto info = json::raw_member(text, "user_info")) {
    out.user_info = std::string(*info);
    if (out.user_info.size() > limits.max_user_info_bytes)
      return ChannelDataError{true, "channel_data.user_info is larger than 1024 bytes"};
  }
  const cJSON* privileged = cJSON_GetObjectItemCaseSensitive(parsed.get(), "privileged");
  if (cJSON_IsBool(privileged)) out.privileged = cJSON_IsTrue(privileged);
  return std::nullopt;
}

}  // namespace raptor
