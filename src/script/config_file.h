// Reads a raptor.rb configuration file into a Config: runs it in a sandboxed VM of its own, with
// the DSL of mrblib/config.rb, and takes the settings it declared. Used for `raptor --config`
// and `raptor check`; the hooks it declares are run later by one RubyPolicy per worker.
#pragma once
#include <string>

#include "config/config.h"

namespace raptor::script {

// Fills what the file sets (listen address and port, TLS, workers, limits, apps, script limits)
// and sets config.config_file. False with "file:line: message" in `message`; true with a short
// description of the file's hooks in `message`.
bool read_config_file(const std::string& path, Config& config, std::string& message);

// One policy per worker (config.workers) into config.policies, when the file defines any hook.
// False with "file:line: message" in `error`.
bool load_policies(Config& config, std::string& error);

}  // namespace raptor::script
