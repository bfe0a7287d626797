// Pusher channel names: the allowed characters, the length limit and the type a prefix gives.
#pragma once
#include <string_view>

namespace raptor {

enum class ChannelType { Public, Private, Encrypted, Presence, ServerToUser };

constexpr size_t kMaxChannelNameLength = 200;  // the SDKs enforce 200 although the docs say 164
// Events on `#server-to-user-{id}` go to the connections signed in as {id} (pusher:signin).
constexpr std::string_view kServerToUserPrefix = "#server-to-user-";
// Privileged channels are presence channels where only privileged members see the roster and may
// send client events (docs/channels.md).
constexpr std::string_view kPrivilegedPrefix = "presence-privileged-";

ChannelType channel_type(std::string_view name);
// The prefix that gives `name` its type: "private-encrypted-", "private-", "presence-",
// "#server-to-user-", or "" for a public channel.
std::string_view channel_type_prefix(std::string_view name);

// Name of allowed characters (A-Z a-z 0-9 _ - = @ , . ;) and length, or a
// `#server-to-user-{id}` name when `allow_internal` (the HTTP API may address those).
bool is_valid_channel_name(std::string_view name, bool allow_internal = false);

// A user id as sign-in and #server-to-user- channels carry it: channel-name characters, not empty.
// (Its length limit is per app.)
bool is_valid_user_id(std::string_view id);

// Cache channels (cache-, private-cache-, presence-cache-, private-encrypted-cache-) keep their
// last API event for new subscribers.
bool is_cache_channel(std::string_view name);

inline bool is_privileged_channel(std::string_view name) {
  return name.substr(0, kPrivilegedPrefix.size()) == kPrivilegedPrefix;
}

inline bool requires_auth(ChannelType t) {
  return t == ChannelType::Private || t == ChannelType::Encrypted || t == ChannelType::Presence;
}

}  // namespace raptor
