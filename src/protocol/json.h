// Thin RAII helpers over cJSON, and a string escaper for frames built by hand.
// Pusher ids stay strings: cJSON turns large integers into doubles.
#pragma once
#include <cjson/cJSON.h>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace raptor::json {

struct Deleter {
  void operator()(cJSON* j) const { cJSON_Delete(j); }
};
using Ptr = std::unique_ptr<cJSON, Deleter>;

// Whether `s` is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF).
bool valid_utf8(std::string_view s);

// Parses `text` as one whole JSON document of valid UTF-8; null otherwise (also when bytes
// follow the value, which cJSON alone would ignore, and on control characters other than white
// space between tokens, which cJSON alone would take raw into strings, and on the escape \u0000,
// whose NUL would cut the string short: docs/protocol.md#json).
Ptr parse(std::string_view text);

// The exact source text of member `key` of the JSON object `object_text`, which must be valid
// JSON (parse() it first). Lets values pass through byte for byte: re-printing a parsed tree
// would turn big integers into rounded doubles.
std::optional<std::string_view> raw_member(std::string_view object_text, std::string_view key);

// Compact serialization of a node.
std::string print(const cJSON* node);

// Appends `s` as a quoted JSON string literal.
void append_quoted(std::string& out, std::string_view s);
std::string quoted(std::string_view s);

// The string value of member `key` of `obj`, if it is a string.
std::optional<std::string_view> string_member(const cJSON* obj, const char* key);

}  // namespace raptor::json
