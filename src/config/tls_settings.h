// How the listener speaks TLS (docs/security.md#tls): the oldest protocol version a client may
// use and the cipher list offered with TLS 1.2 (TLS 1.3's suites are OpenSSL's, all of them
// modern AEADs). Checked here, against the OpenSSL the server runs with, so that a flag, a
// raptor.rb directive or a reload refuses a bad value with one line; net/server_tls.h applies them.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace raptor {

enum class TlsVersion { kTls12, kTls13 };

// "1.2" or "1.3" (also "TLSv1.2", "TLSv1.3"); nothing for any other.
std::optional<TlsVersion> tls_version_named(std::string_view name);
const char* tls_version_name(TlsVersion version);  // "1.2", "1.3"

// ECDHE with AES-GCM or ChaCha20-Poly1305 only: forward secrecy and AEAD, for RSA and ECDSA
// certificates (Mozilla's "intermediate" profile without finite-field DHE).
extern const char* const kDefaultTlsCiphers;

// Why `list` (OpenSSL cipher-list syntax, ':'-separated) is refused: an element OpenSSL does not
// know, or no TLS 1.2 cipher left in it; nothing when it is usable.
std::optional<std::string> tls_ciphers_problem(const std::string& list);

}  // namespace raptor
