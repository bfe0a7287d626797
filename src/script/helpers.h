// The C++ side of the Ruby helpers scripts may use (JSON, HMAC-SHA256, SHA-256, Base64,
// constant-time compare, time, a logger, RAPTOR_* environment variables): defined on the
// Raptor and JSON modules before mrblib/ is loaded. docs/configuration.md lists them.
#pragma once
#include <mruby.h>

namespace raptor::script {

void define_helpers(mrb_state* mrb);

}  // namespace raptor::script
