// protocol/channel_kind: the table of channel kinds, and what reads it (the type of a prefix,
// cache channels, privilege by default, URL types).
#include "protocol/channel_kind.h"

#include <set>
#include <string>

#include "core/presence_roster.h"
#include "protocol/channel_resource.h"
#include "support.h"

using namespace raptor;

TEST_CASE("channel_type is decided by prefix, the longest first", "[channel_kind]") {
  CHECK(channel_type("my-channel") == ChannelType::Public);
  CHECK(channel_type("") == ChannelType::Public);
  CHECK(channel_type("private-chat") == ChannelType::Private);
  CHECK(channel_type("private-") == ChannelType::Private);
  CHECK(channel_type("private-encrypted-chat") == ChannelType::Encrypted);
  CHECK(channel_type("presence-room") == ChannelType::Presence);
  CHECK(channel_type("presence-privileged-room") == ChannelType::Presence);
  CHECK(channel_type("#server-to-user-42") == ChannelType::ServerToUser);
  // A prefix counts only at the start and in lower case.
  CHECK(channel_type("Private-chat") == ChannelType::Public);
  CHECK(channel_type("my-private-chat") == ChannelType::Public);
  CHECK(channel_type("privatechat") == ChannelType::Public);
  CHECK(channel_type("presence") == ChannelType::Public);
  CHECK(channel_type("private-encryptedx") == ChannelType::Private);
  CHECK(channel_kind("presence-privileged-room").prefix == "presence-privileged-");
  CHECK(channel_type_prefix("presence-privileged-room") == "presence-");  // patterns match within presence-
}

TEST_CASE("the kinds' rules: who subscribes, who sends client events, which patterns", "[channel_kind]") {
  CHECK(channel_kind("news").auth == ChannelAuth::Anyone);
  CHECK(channel_kind("private-a").auth == ChannelAuth::Signature);
  CHECK(channel_kind("private-encrypted-a").auth == ChannelAuth::Signature);
  CHECK(channel_kind("presence-a").auth == ChannelAuth::Signature);
  CHECK(channel_kind("#server-to-user-a").auth == ChannelAuth::SignedInUser);
  CHECK(channel_kind("news").client_events == ClientEvents::Nobody);
  CHECK(channel_kind("private-encrypted-a").client_events == ClientEvents::Nobody);
  CHECK(channel_kind("private-a").client_events == ClientEvents::Subscribers);
  CHECK(channel_kind("presence-privileged-a").client_events == ClientEvents::PrivilegedMembers);
  CHECK(channel_kind("news.*").patterns == Patterns::Subscribe);
  CHECK(channel_kind("private-*").patterns == Patterns::Subscribe);
  CHECK(channel_kind("presence-*").patterns == Patterns::RulesOnly);
  CHECK(channel_kind("#server-to-user-*").patterns == Patterns::None);
}

TEST_CASE("rows of one type agree on what code asks of the type", "[channel_kind]") {
  std::set<std::string_view> prefixes;
  for (const ChannelKind& a : kChannelKinds) {
    CHECK(prefixes.insert(a.prefix).second);  // one row per prefix
    CHECK((a.patterns == Patterns::Subscribe) == a.no_patterns.empty());
    for (const ChannelKind& b : kChannelKinds) {
      if (a.type != b.type) continue;
      CHECK(a.auth == b.auth);
      CHECK(a.presence == b.presence);
      CHECK(a.pattern_prefix == b.pattern_prefix);
    }
  }
}

TEST_CASE("cache channels: cache- after a kind's prefix, for the kinds that have them", "[channel_kind]") {
  CHECK(is_cache_channel("cache-news"));
  CHECK(is_cache_channel("private-cache-a"));
  CHECK(is_cache_channel("presence-cache-a"));
  CHECK(is_cache_channel("private-encrypted-cache-a"));
  CHECK_FALSE(is_cache_channel("presence-privileged-cache-a"));
  CHECK_FALSE(is_cache_channel("#server-to-user-cache-a"));
  CHECK_FALSE(is_cache_channel("news-cache-a"));
  CHECK_FALSE(is_cache_channel("private-encryptedcache-a"));
}

TEST_CASE("every kind with a URL type maps names both ways", "[channel_kind][channel_resource]") {
  for (const ChannelKind& kind : kChannelKinds) {
    if (kind.resource.empty()) continue;
    std::string name = std::string(kind.prefix) + "room.7";
    INFO(name);
    auto path = resource_of_channel(name);
    REQUIRE(path);
    CHECK(*path == "/channels/" + std::string(kind.resource) + "/room/7");
    CHECK(channel_from_resource(*path).name == name);
  }
  CHECK_FALSE(resource_of_channel("private-encrypted-room"));
  CHECK_FALSE(resource_of_channel("#server-to-user-7"));
}

TEST_CASE("presence members are privileged by default except on privileged channels", "[channel_kind][privileged]") {
  CHECK(member_privileged("presence-room", std::nullopt, std::nullopt));
  CHECK_FALSE(member_privileged("presence-privileged-room", std::nullopt, std::nullopt));
}
