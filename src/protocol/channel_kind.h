// The kinds of channel, one row each: what a name's prefix makes of a channel. Everything that
// treats kinds differently reads this table: subscription rules (core/subscription_authorizer.cpp), wildcard
// patterns (channel_pattern.h, core/wildcard_index.h), URL addresses (channel_resource.h), cache
// channels, presence and privileged members (core/presence_roster.h). Adding a kind: a row here,
// what is new about it in the engine, and tests (tests/unit/test_channel_kind.cpp).
#pragma once
#include <string_view>

namespace raptor {

// Kinds that share a type behave alike wherever the code asks for the type rather than the row
// (presence and privileged channels are both Presence: rosters, member events, user counts).
enum class ChannelType { Public, Private, Encrypted, Presence, ServerToUser, Operator };

// Who may subscribe, before the policy has its say.
enum class ChannelAuth {
  Anyone,
  Signature,     // a signature from the app's auth endpoint, or the authorize hook's allow
  SignedInUser,  // the connection signed in (pusher:signin) as the user the name ends with
  AdminToken,    // a signature keyed by the operator's admin token (protocol/admin_token.h)
};

// Who may send client events on it.
enum class ClientEvents { Nobody, Subscribers, PrivilegedMembers };

// Wildcard patterns of the kind (docs/channels.md).
enum class Patterns {
  Subscribe,  // clients may subscribe to them
  RulesOnly,  // only raptor.rb's channel rules may name channels by pattern
  None,       // not a pattern at all
};

struct ChannelKind {
  ChannelType type;
  std::string_view prefix;  // what its names begin with ("" for public channels)
  // The literal head of its names within which a wildcard pattern matches: a pattern matches
  // channels of its own head only (privileged channels share presence's).
  std::string_view pattern_prefix;
  std::string_view resource;  // its type in URL addresses (/channels/{resource}/…); "": none
  ChannelAuth auth;
  bool presence;            // members with user ids and info, a roster, channel_data
  bool members_privileged;  // presence: a member is privileged unless its signature or the policy says not
  ClientEvents client_events;
  Patterns patterns;
  std::string_view no_patterns;  // why clients may not subscribe by pattern, for the client
  bool cache;                    // "cache-" after the prefix makes a cache channel (docs/channels.md)
};

// clang-format off
inline constexpr ChannelKind kChannelKinds[] = {
  // type                     prefix                  pattern prefix        resource      auth                        presence privileged? client events                    patterns              why no patterns                                                                          cache
  {ChannelType::Public,       "",                     "",                   "public",     ChannelAuth::Anyone,        false, false, ClientEvents::Nobody,            Patterns::Subscribe, "",                                                                                      true},
  {ChannelType::Private,      "private-",             "private-",           "private",    ChannelAuth::Signature,     false, false, ClientEvents::Subscribers,       Patterns::Subscribe, "",                                                                                      true},
  {ChannelType::Encrypted,    "private-encrypted-",   "private-encrypted-", "",           ChannelAuth::Signature,     false, false, ClientEvents::Nobody,            Patterns::RulesOnly, "private-encrypted- channels cannot be subscribed by wildcard pattern: each has its own key", true},
  {ChannelType::Presence,     "presence-",            "presence-",          "presence",   ChannelAuth::Signature,     true,  true,  ClientEvents::PrivilegedMembers, Patterns::RulesOnly, "Presence and privileged channels cannot be subscribed by wildcard pattern",             true},
  {ChannelType::Presence,     "presence-privileged-", "presence-",          "privileged", ChannelAuth::Signature,     true,  false, ClientEvents::PrivilegedMembers, Patterns::RulesOnly, "Presence and privileged channels cannot be subscribed by wildcard pattern",             false},
  {ChannelType::ServerToUser, "#server-to-user-",     "#server-to-user-",   "",           ChannelAuth::SignedInUser,  false, false, ClientEvents::Nobody,            Patterns::None,      "#server-to-user- channels cannot be subscribed by pattern",                              false},
  {ChannelType::Operator,     "#raptor-",             "#raptor-",           "",           ChannelAuth::AdminToken,    false, false, ClientEvents::Nobody,            Patterns::None,      "#raptor- channels cannot be subscribed by pattern",                                      false},
};
// clang-format on

// The kind of a channel name or pattern: the row with the longest prefix it begins with.
const ChannelKind& channel_kind(std::string_view name);

inline ChannelType channel_type(std::string_view name) { return channel_kind(name).type; }
// The prefix a wildcard pattern's head is matched within: "private-encrypted-", "private-",
// "presence-", "#server-to-user-", or "" for a public channel.
inline std::string_view channel_type_prefix(std::string_view name) { return channel_kind(name).pattern_prefix; }

// Events on `#server-to-user-{id}` go to the connections signed in as {id} (pusher:signin).
inline constexpr std::string_view kServerToUserPrefix = "#server-to-user-";

// Raptor's own channels (#raptor-…) carry what raptor itself sends to the operator: the
// dashboard's figures on #raptor-dashboard (core/dashboard_watchers.h). The name is not one a
// client may publish to (channel_name.h), nor an app's channel: no directory, webhook or cluster.
inline constexpr std::string_view kDashboardChannel = "#raptor-dashboard";

// Cache channels (cache-, private-cache-, presence-cache-, private-encrypted-cache-) keep their
// last API event for new subscribers.
bool is_cache_channel(std::string_view name);

}  // namespace raptor
