// Wildcard channel patterns (DESIGN.md §1.2, docs/channels.md): a channel name in which whole
// segments are `*` (exactly one segment) or, last only, `**` (one or more segments):
//   galleries.*.comments            galleries.**            private-users.*.**
// The type prefix (private-, …) is literal: a pattern matches channels of its own type only.
// Patterns are what clients subscribe to; nothing is ever published to one.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace raptor {

// The most segments a pattern may have (the prefix's text included in the first): bounds the
// depth of the wildcard index's walk for every publish.
constexpr size_t kMaxPatternSegments = 16;
// The most wildcard subscriptions one connection may hold (4305 beyond it).
constexpr size_t kMaxPatternsPerConnection = 100;

// A name with a `*` is meant as a pattern, valid or not: `*` is no channel-name character.
inline bool names_pattern(std::string_view name) { return name.find('*') != std::string_view::npos; }

// Nullopt when `pattern` is a valid pattern; else the rule it breaks, for the client. Presence
// and encrypted patterns are valid here: whether a type may be subscribed by pattern is the
// engine's decision.
std::optional<std::string> wildcard_pattern_error(std::string_view pattern);

inline bool is_wildcard_pattern(std::string_view pattern) {
  return names_pattern(pattern) && !wildcard_pattern_error(pattern);
}

// Whether the valid `pattern` matches `channel`: one pattern against one channel, for a node
// that receives an event through a Redis glob standing for the pattern, which over-matches
// (docs/cluster.md). A worker's own publishes find their patterns with the WildcardIndex instead.
bool pattern_matches(std::string_view pattern, std::string_view channel);

}  // namespace raptor
