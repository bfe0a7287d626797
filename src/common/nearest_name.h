// "Did you mean …?": the known name nearest a mistyped one, by edit distance.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace raptor {

// Insertions, deletions, substitutions and swaps of two neighbours ("lisetn" -> "listen" is 1)
// that turn `a` into `b` (the optimal string alignment distance).
size_t edit_distance(std::string_view a, std::string_view b);

// The candidate nearest `word`, if one is near enough to be the name meant: at most a third of
// the word's letters apart (at least 1). The first of equally near ones; never `word` itself.
std::optional<std::string> nearest_name(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace raptor
