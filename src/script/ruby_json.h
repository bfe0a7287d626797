// Ruby values <-> JSON through cJSON: what JSON.parse/JSON.generate do, and how hook arguments
// and answers cross between C++ and Ruby.
#pragma once
#include <mruby.h>
#include <mruby/string.h>

#include <string>
#include <string_view>

#include "protocol/json.h"

namespace raptor::script {

// A Ruby String holding `s`'s bytes. May raise (memory).
inline mrb_value ruby_string(mrb_state* mrb, std::string_view s) {
  return mrb_str_new(mrb, s.data(), static_cast<mrb_int>(s.size()));
}

// A Ruby value for a JSON node: objects become Hashes with String keys. May raise (memory).
mrb_value ruby_from_json(mrb_state* mrb, const cJSON* node);
// Parses JSON text; raises JSON::ParserError (an ArgumentError) on malformed text.
mrb_value ruby_parse_json(mrb_state* mrb, std::string_view text);

// A JSON tree for nil, true, false, Integer, Float, String, Symbol, Array and Hash (String or
// Symbol keys). Null with a message in `error` for anything else, or nesting past 64 levels.
json::Ptr json_from_ruby(mrb_state* mrb, mrb_value value, std::string& error);

}  // namespace raptor::script
