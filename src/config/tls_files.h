// The TLS certificate and key checked before anything is served, so that `raptor check` and
// the start report a missing file or a key of another certificate as one line, not as the TLS
// library's errors after the banner.
#pragma once
#include <optional>
#include <string>

namespace raptor {

// Why the PEM certificate (chain) at `cert` and the PEM private key at `key` cannot serve TLS
// (unreadable, not PEM, or the key does not match the certificate); nothing when they can.
std::optional<std::string> tls_files_problem(const std::string& cert, const std::string& key);

}  // namespace raptor
