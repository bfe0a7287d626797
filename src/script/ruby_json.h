// Ruby values <-> JSON through cJSON: what JSON.parse/JSON.generate do, and how hook arguments
// and answers cross between C++ and Ruby.
#pragma once
#include <mruby.h>

#include <string>
#include <string_view>

#include "protocol/json.h"

namespace raptor::script {

// A Ruby value for a JSON node: objects become Hashes with String keys. May raise (memory).
mrb_value ruby_from_json(mrb_state* mrb, const cJSON* node);
// Parses JSON text; raises JSON::ParserError (an ArgumentError) on malformed text.
mrb_value ruby_parse_json(mrb_state* mrb, std::string_view text);

// A JSON tree for nil, true, false, Integer, Float, String, Symbol, Array and Hash (String or
// Symbol keys). Null with a message in `error` for anything else, or nesting past 64 levels.
json::Ptr json_from_ruby(mrb_state* mrb, mrb_value value, std::string& error);

}  // namespace raptor::script
