// Wildcard channel patterns and the index that finds the ones matching a published channel.
// A channel name is its type prefix (private-, presence-, …) and segments separated by dots; in a
// pattern `*` stands for exactly one segment and `**`, last only, for one or more:
//   private-galleries.*.comments   matches private-galleries.123.comments
//   galleries.**                   matches galleries.1 and galleries.1.comments, not galleries
// A pattern matches only channels of its own type ("*.x" never matches private-a.x).
// Matching walks a tree of segments, so its cost grows with the length of the channel name and
// the patterns that share its segments, not with the number of unrelated patterns.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

namespace raptor {

// True when `pattern` is a valid wildcard pattern: it has at least one `*` or `**` segment, `**`
// only last, and its other segments are non-empty channel-name text.
bool is_wildcard_pattern(std::string_view pattern);

class WildcardIndex {
 public:
  WildcardIndex();
  ~WildcardIndex();

  // Adds a valid pattern; false when it was already there.
  bool add(std::string_view pattern);
  // Removes a pattern; false when it was not there.
  bool remove(std::string_view pattern);
  // Calls `found` once for every pattern that matches `channel`.
  void match(std::string_view channel, const std::function<void(const std::string& pattern)>& found) const;
  size_t size() const { return size_; }

 private:
  struct Node;
  Node* root(std::string_view prefix, bool create);
  std::unordered_map<std::string, std::unique_ptr<Node>> roots_;  // by type prefix
  size_t size_ = 0;
};

}  // namespace raptor
