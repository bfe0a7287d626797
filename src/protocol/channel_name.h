// Pusher channel names: the allowed characters and the length limit. What a name's prefix makes
// of a channel is the table in channel_kind.h.
#pragma once
#include <string_view>

#include "protocol/channel_kind.h"

namespace raptor {

constexpr size_t kMaxChannelNameLength = 200;  // the SDKs enforce 200 although the docs say 164

// Name of allowed characters (A-Z a-z 0-9 _ - = @ , . ;) and length, or a
// `#server-to-user-{id}` name when `allow_internal` (the HTTP API may address those).
bool is_valid_channel_name(std::string_view name, bool allow_internal = false);

// A user id as sign-in and #server-to-user- channels carry it: channel-name characters, not empty.
// (Its length limit is per app.)
bool is_valid_user_id(std::string_view id);

}  // namespace raptor
