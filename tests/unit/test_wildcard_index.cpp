// core/wildcard_index and protocol/channel_pattern: which patterns are valid and why not, what `*`
// and `**` match, types kept apart, and the index against a naive matcher over random pattern sets
// and channels (with adds and removes), and so does pattern_matches.
#include "core/wildcard_index.h"

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "support.h"

using namespace raptor;

namespace {

// Sorted, so that expectations do not depend on the order of the walk.
std::vector<std::string> matches(const WildcardIndex& index, std::string_view channel) {
  std::vector<std::string> out;
  index.match(channel, [&](const std::string& p) { out.push_back(p); });
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out(1);
  for (char c : s) {
    if (c == '.')
      out.emplace_back();
    else
      out.back() += c;
  }
  return out;
}

// The rules, written as plainly as possible: same type prefix, no empty segment in the channel,
// then segment by segment.
bool naive_match(const std::string& pattern, const std::string& channel) {
  auto prefix_of = [](const std::string& n) -> std::string {
    for (const char* p : {"private-encrypted-", "private-", "presence-"})
      if (n.rfind(p, 0) == 0) return p;
    return "";
  };
  std::string pp = prefix_of(pattern), cp = prefix_of(channel);
  if (pp != cp) return false;
  std::vector<std::string> ps = split(pattern.substr(pp.size())), cs = split(channel.substr(cp.size()));
  for (const auto& seg : cs)
    if (seg.empty()) return false;
  for (size_t i = 0; i < ps.size(); ++i) {
    if (ps[i] == "**") return cs.size() > i;  // one or more segments left
    if (i >= cs.size()) return false;
    if (ps[i] != "*" && ps[i] != cs[i]) return false;
  }
  return ps.size() == cs.size();
}

}  // namespace

TEST_CASE("valid patterns have a wildcard segment, ** only last, and channel-name text", "[wildcard]") {
  for (const char* ok : {"*", "**", "galleries.*", "galleries.*.comments", "galleries.**", "private-*",
                         "private-galleries.*.comments", "presence-room.*", "a.*.b.**", "*.*"})
    CHECK(is_wildcard_pattern(ok));
  for (const char* bad : {"galleries", "private-x", "", "galleries.", ".*", "a..*", "**.a", "a.**.b", "a*",
                          "*a.b", "a.b*", "#server-to-user-*", "a b.*", "***"})
    CHECK_FALSE(is_wildcard_pattern(bad));
  CHECK_FALSE(is_wildcard_pattern(std::string(199, 'a') + ".*"));
  std::string sixteen = "*", seventeen;
  for (int i = 1; i < 16; ++i) sixteen += ".*";
  seventeen = sixteen + ".a";
  CHECK(is_wildcard_pattern(sixteen));
  CHECK_FALSE(is_wildcard_pattern(seventeen));
}

TEST_CASE("an invalid pattern is told the rule it breaks", "[wildcard]") {
  auto why = [](std::string_view p) { return wildcard_pattern_error(p).value_or("(valid)"); };
  CHECK_THAT(why("a.**.b"), Catch::Contains("'**' may only be the last segment"));
  CHECK_THAT(why("***"), Catch::Contains("a wildcard is a whole segment"));
  CHECK_THAT(why("a*.b"), Catch::Contains("Segment 'a*'"));
  CHECK_THAT(why("a..*"), Catch::Contains("Empty segment 2"));
  CHECK_THAT(why("*."), Catch::Contains("Empty segment 2"));
  CHECK_THAT(why("a b.*"), Catch::Contains("character outside"));
  CHECK_THAT(why("galleries"), Catch::Contains("needs a '*' or '**' segment"));
  CHECK_THAT(why("#server-to-user-*"), Catch::Contains("#server-to-user-"));
  CHECK(why("private-galleries.*.comments") == "(valid)");
  CHECK(why("presence-*") == "(valid)");  // a valid pattern; the engine refuses its type
}

TEST_CASE("* matches one segment and ** one or more trailing segments", "[wildcard]") {
  WildcardIndex index;
  REQUIRE(index.add("galleries.*.comments"));
  REQUIRE(index.add("galleries.**"));
  REQUIRE(index.add("*"));
  CHECK(matches(index, "galleries.123.comments") == std::vector<std::string>{"galleries.**", "galleries.*.comments"});
  CHECK(matches(index, "galleries.123") == std::vector<std::string>{"galleries.**"});
  CHECK(matches(index, "galleries.1.comments.x") == std::vector<std::string>{"galleries.**"});
  CHECK(matches(index, "galleries") == std::vector<std::string>{"*"});
  CHECK(matches(index, "news") == std::vector<std::string>{"*"});
  CHECK(matches(index, "news.uk").empty());
  CHECK(index.size() == 3);
}

TEST_CASE("no pattern matches a channel with an empty segment", "[wildcard]") {
  WildcardIndex index;
  REQUIRE(index.add("a.*.b"));
  REQUIRE(index.add("a.**"));
  REQUIRE(index.add("*"));
  CHECK(matches(index, "a..b").empty());
  CHECK(matches(index, "a.").empty());
  CHECK(matches(index, "a.x.b") == std::vector<std::string>{"a.**", "a.*.b"});
}

TEST_CASE("a pattern never matches a channel of another type", "[wildcard]") {
  WildcardIndex index;
  REQUIRE(index.add("*.comments"));
  REQUIRE(index.add("**"));
  REQUIRE(index.add("private-*.comments"));
  CHECK(matches(index, "a.comments") == std::vector<std::string>{"**", "*.comments"});
  CHECK(matches(index, "private-a.comments") == std::vector<std::string>{"private-*.comments"});
  CHECK(matches(index, "presence-a.comments").empty());
  CHECK(matches(index, "private-encrypted-a.comments").empty());
}

TEST_CASE("adding twice and removing what is absent report it, and removal prunes", "[wildcard]") {
  WildcardIndex index;
  CHECK(index.add("a.*"));
  CHECK_FALSE(index.add("a.*"));
  CHECK(index.add("a.**"));
  CHECK_FALSE(index.remove("a.*.x"));
  CHECK_FALSE(index.remove("b.*"));
  CHECK(index.remove("a.*"));
  CHECK_FALSE(index.remove("a.*"));
  CHECK(matches(index, "a.b") == std::vector<std::string>{"a.**"});
  CHECK(index.remove("a.**"));
  CHECK(index.size() == 0);
  CHECK(matches(index, "a.b").empty());
  CHECK(index.add("a.*"));  // usable again after being emptied
  CHECK(matches(index, "a.b") == std::vector<std::string>{"a.*"});
}

TEST_CASE("pattern_matches: one pattern against one channel, by the same rules", "[wildcard]") {
  CHECK(pattern_matches("galleries.*.comments", "galleries.5.comments"));
  CHECK_FALSE(pattern_matches("galleries.*.comments", "galleries.5.6.comments"));
  CHECK_FALSE(pattern_matches("galleries.*.comments", "galleries.comments"));
  CHECK(pattern_matches("galleries.**", "galleries.5.comments"));
  CHECK_FALSE(pattern_matches("galleries.**", "galleries"));
  CHECK(pattern_matches("*", "news"));
  CHECK_FALSE(pattern_matches("*", "private-news"));
  CHECK(pattern_matches("private-*", "private-news"));
  CHECK_FALSE(pattern_matches("private-*", "private-encrypted-news"));
  CHECK_FALSE(pattern_matches("a.*", "a."));
  CHECK_FALSE(pattern_matches("**", "a..b"));
}

TEST_CASE("the index agrees with a naive matcher on random patterns and channels", "[wildcard]") {
  std::mt19937 rng(7);
  const char* words[] = {"a", "b", "c", "galleries", "1"};
  const char* prefixes[] = {"", "", "private-", "presence-"};
  auto random_name = [&](bool pattern) {
    std::string name = prefixes[rng() % 4];
    int n = 1 + int(rng() % 4);
    for (int i = 0; i < n; ++i) {
      if (i) name += '.';
      unsigned r = rng() % 10;
      if (pattern && r < 3)
        name += "*";
      else if (pattern && r == 3 && i == n - 1)
        name += "**";
      else if (!pattern && r == 9 && rng() % 4 == 0)
        ;  // an empty segment now and then, which no pattern matches
      else
        name += words[rng() % 5];
    }
    return name;
  };
  for (int round = 0; round < 50; ++round) {
    WildcardIndex index;
    std::set<std::string> patterns;
    for (int i = 0; i < 40; ++i) {
      std::string p = random_name(true);
      if (!is_wildcard_pattern(p)) continue;
      CHECK(index.add(p) == patterns.insert(p).second);
    }
    for (int i = 0; i < 10 && !patterns.empty(); ++i) {  // remove some again
      auto it = patterns.begin();
      std::advance(it, rng() % patterns.size());
      CHECK(index.remove(*it));
      patterns.erase(it);
    }
    REQUIRE(index.size() == patterns.size());
    for (int i = 0; i < 200; ++i) {
      std::string channel = random_name(false);
      std::vector<std::string> expected;
      INFO("channel " << channel);
      for (const auto& p : patterns) {
        if (naive_match(p, channel)) expected.push_back(p);
        CHECK(pattern_matches(p, channel) == naive_match(p, channel));
      }
      CHECK(matches(index, channel) == expected);
    }
  }
}
