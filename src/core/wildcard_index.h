// The index that finds the wildcard patterns (protocol/channel_pattern.h) matching a published
// channel. A channel name is its type prefix (private-, presence-, …) and segments separated by
// dots; in a pattern `*` stands for exactly one segment and `**`, last only, for one or more:
//   private-galleries.*.comments   matches private-galleries.123.comments
//   galleries.**                   matches galleries.1 and galleries.1.comments, not galleries
// A pattern matches only channels of its own type ("*.x" never matches private-a.x), and no
// pattern matches a channel with an empty segment ("a..b", "a."): such a name has no address
// (/channels/…), and a subscriber by address is told the concrete channel's address.
// Matching walks a tree of segments, so its cost grows with the length of the channel name and
// the patterns that share its segments, not with the number of unrelated patterns.
// Not thread-safe: its owner (ChannelDirectory) locks.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "protocol/channel_pattern.h"

namespace raptor {

class WildcardIndex {
 public:
  WildcardIndex();
  ~WildcardIndex();

  // Adds a pattern (is_wildcard_pattern); false when it was already there.
  bool add(std::string_view pattern);
  // Removes a pattern; false when it was not there.
  bool remove(std::string_view pattern);
  using Found = std::function<void(const std::string& pattern)>;
  // Calls `found` once for every pattern that matches `channel`.
  void match(std::string_view channel, const Found& found) const;
  size_t size() const { return size_; }

 private:
  struct Node;
  Node* root(std::string_view prefix, bool create);
  // Reports the patterns below `node` that match `rest`, the channel's segments still to match
  // (none when `none_left`).
  static void walk(const Node& node, std::string_view rest, bool none_left, const Found& found);
  std::unordered_map<std::string, std::unique_ptr<Node>> roots_;  // by type prefix
  size_t size_ = 0;
};

}  // namespace raptor
