// The listener's TLS context (one per worker, made by libwebsockets for its server vhost), set
// to the configured protocol floor and TLS 1.2 ciphers when the vhost is made, and given a new
// certificate and key by a reload. Connections already open keep the certificate they were
// accepted with (OpenSSL copies it into each connection), so a reload drops none of them; the
// next handshake gets the new one. On the worker's thread, which alone uses its context.
#pragma once
#include <optional>
#include <string>

#include "config/tls_files.h"
#include "config/tls_settings.h"

struct ssl_ctx_st;

namespace raptor::net {

// Sets the minimum version and the TLS 1.2 cipher list of `ctx`; why not, when OpenSSL refuses.
std::optional<std::string> apply_tls_policy(ssl_ctx_st* ctx, TlsVersion min_version, const std::string& ciphers);

// Why `identity` cannot replace the one `ctx` serves without a restart (another key type);
// nothing when it can.
std::optional<std::string> tls_identity_change_problem(const ssl_ctx_st* ctx, const TlsIdentity& identity);

// Makes `identity` the certificate chain and key `ctx` serves from the next handshake on; why
// not, when OpenSSL refuses (the context then keeps its previous identity).
std::optional<std::string> apply_tls_identity(ssl_ctx_st* ctx, const TlsIdentity& identity);

}  // namespace raptor::net
