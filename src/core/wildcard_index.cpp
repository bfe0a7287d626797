#include "core/wildcard_index.h"

#include <vector>

#include "common/text.h"
#include "protocol/channel_name.h"

namespace raptor {
namespace {

constexpr std::string_view kOne = "*";
constexpr std::string_view kOneOrMore = "**";

std::vector<std::string_view> segments(std::string_view rest) { return split_at(rest, '.'); }

}  // namespace

struct WildcardIndex::Node {
  std::unordered_map<std::string, std::unique_ptr<Node>> literal;
  std::unique_ptr<Node> one;  // `*`
  std::string ends_here;       // a pattern that ends at this node ("" when none)
  std::string one_or_more;     // a pattern that ends at this node with `**`
  bool empty() const { return literal.empty() && !one && ends_here.empty() && one_or_more.empty(); }
};

WildcardIndex::WildcardIndex() = default;
WildcardIndex::~WildcardIndex() = default;

WildcardIndex::Node* WildcardIndex::root(std::string_view prefix, bool create) {
  auto it = roots_.find(std::string(prefix));
  if (it != roots_.end()) return it->second.get();
  if (!create) return nullptr;
  return (roots_[std::string(prefix)] = std::make_unique<Node>()).get();
}

bool WildcardIndex::add(std::string_view pattern) {
  std::string_view prefix = channel_type_prefix(pattern);
  std::vector<std::string_view> segs = segments(pattern.substr(prefix.size()));
  Node* node = root(prefix, true);
  for (size_t i = 0; i < segs.size(); ++i) {
    if (segs[i] == kOneOrMore) {  // last, by is_wildcard_pattern
      if (!node->one_or_more.empty()) return false;
      node->one_or_more = std::string(pattern);
      ++size_;
      return true;
    }
    std::unique_ptr<Node>& next = segs[i] == kOne ? node->one : node->literal[std::string(segs[i])];
    if (!next) next = std::make_unique<Node>();
    node = next.get();
  }
  if (!node->ends_here.empty()) return false;
  node->ends_here = std::string(pattern);
  ++size_;
  return true;
}

bool WildcardIndex::remove(std::string_view pattern) {
  std::string_view prefix = channel_type_prefix(pattern);
  std::vector<std::string_view> segs = segments(pattern.substr(prefix.size()));
  Node* top = root(prefix, false);
  if (!top) return false;
  // The path down, to prune the nodes the pattern leaves empty on the way back up.
  std::vector<std::pair<Node*, std::string_view>> path;
  Node* node = top;
  bool removed = false;
  for (size_t i = 0; i <= segs.size(); ++i) {
    if (i == segs.size()) {
      removed = node->ends_here == pattern;
      if (removed) node->ends_here.clear();
      break;
    }
    if (segs[i] == kOneOrMore) {
      removed = node->one_or_more == pattern;
      if (removed) node->one_or_more.clear();
      break;
    }
    path.emplace_back(node, segs[i]);
    Node* next = nullptr;
    if (segs[i] == kOne) {
      next = node->one.get();
    } else {
      auto it = node->literal.find(std::string(segs[i]));
      if (it != node->literal.end()) next = it->second.get();
    }
    if (!next) return false;
    node = next;
  }
  if (!removed) return false;
  --size_;
  for (auto step = path.rbegin(); step != path.rend(); ++step) {
    auto [parent, seg] = *step;
    Node* child = seg == kOne ? parent->one.get() : parent->literal.find(std::string(seg))->second.get();
    if (!child->empty()) break;
    if (seg == kOne)
      parent->one.reset();
    else
      parent->literal.erase(std::string(seg));
  }
  if (top->empty()) roots_.erase(std::string(prefix));
  return true;
}

void WildcardIndex::match(std::string_view channel, const Found& found) const {
  std::string_view prefix = channel_type_prefix(channel);
  auto it = roots_.find(std::string(prefix));
  if (it == roots_.end()) return;
  std::string_view rest = channel.substr(prefix.size());
  if (rest.empty() || rest.front() == '.' || rest.back() == '.' || rest.find("..") != std::string_view::npos)
    return;  // an empty segment: no pattern matches
  walk(*it->second, rest, false, found);
}

// Depth-first, taking one segment off `rest` per level (no allocation); a node sits at one depth,
// so no pattern is reached twice for one channel.
void WildcardIndex::walk(const Node& node, std::string_view rest, bool none_left, const Found& found) {
  if (none_left) {
    if (!node.ends_here.empty()) found(node.ends_here);
    return;
  }
  if (!node.one_or_more.empty()) found(node.one_or_more);
  size_t dot = rest.find('.');
  bool last = dot == std::string_view::npos;
  std::string_view after = last ? std::string_view() : rest.substr(dot + 1);
  auto lit = node.literal.find(std::string(rest.substr(0, dot)));
  if (lit != node.literal.end()) walk(*lit->second, after, last, found);
  if (node.one) walk(*node.one, after, last, found);
}

}  // namespace raptor
