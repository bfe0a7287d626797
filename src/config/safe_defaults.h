// Configurations raptor refuses to serve because anyone could use them: the development app or
// a placeholder secret (`change-me`, the secrets of the examples and docs) on an address other
// machines reach. On loopback they stay allowed, for development (docs/security.md).
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"

namespace raptor {

// 127.0.0.0/8, ::1 and localhost: only this machine can connect.
bool is_loopback(std::string_view host);

// A secret published in raptor's help, examples or docs, or a well-known placeholder.
bool is_placeholder_secret(std::string_view secret);

// Why `config` must not be served, as one line without "raptor: " nor a line break; nothing
// when it may. `source` names where the apps came from (the config file, or the flags).
std::optional<std::string> unsafe_credentials(const Config& config, const std::string& source);

}  // namespace raptor
