// URL resources: every channel also has a RESTful address, /channels/{type}/{segment}/…, mapped
// to and from its Pusher name (DESIGN.md §1.2). Segments are joined with '.', and the type becomes
// the name's prefix:
//   /channels/public/news/uk               <-> news.uk
//   /channels/private/galleries/123/comments <-> private-galleries.123.comments
//   /channels/presence/room/7              <-> presence-room.7
//   /channels/privileged/room/7            <-> presence-privileged-room.7
// Encrypted and #server-to-user- channels have no address.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "protocol/channel_name.h"

namespace raptor {

constexpr std::string_view kChannelResourceRoot = "/channels/";

// The outcome of reading an address: a channel name, or the HTTP status and the rule broken.
struct ChannelResource {
  std::string name;  // set when valid
  int status = 0;    // else 400 (a malformed address) or 404 (no such type)
  std::string error;
  bool valid() const { return status == 0; }
};

// Reads a path that begins with /channels/ (anything after the channel's own segments, such as
// /members, is the caller's to strip first). With `patterns`, segments may hold `*`, so that the
// address of a wildcard pattern (/channels/public/galleries/*/comments) reads as the pattern's
// name, whose pattern rules are the caller's to check (protocol/channel_pattern.h); without, a
// `*` is refused like any other character a name may not have.
ChannelResource channel_from_resource(std::string_view path, bool patterns = false);

// The address of a channel name or wildcard pattern; nullopt for names that have none
// (encrypted, #server-to-user-, an empty segment as in "a..b", or characters a path cannot carry).
std::optional<std::string> resource_of_channel(std::string_view name);

}  // namespace raptor
