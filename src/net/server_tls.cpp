#include "net/server_tls.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace raptor::net {
namespace {

std::string openssl_error(const char* what) {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  char text[256] = "";
  if (code) ERR_error_string_n(code, text, sizeof text);
  return std::string(what) + (code ? std::string(": ") + text : "");
}

}  // namespace

std::optional<std::string> apply_tls_policy(ssl_ctx_st* ctx, TlsVersion min_version, const std::string& ciphers) {
  int floor = min_version == TlsVersion::kTls13 ? TLS1_3_VERSION : TLS1_2_VERSION;
  if (SSL_CTX_set_min_proto_version(ctx, floor) != 1) return openssl_error("cannot set the minimum TLS version");
  if (SSL_CTX_set_cipher_list(ctx, ciphers.c_str()) != 1) return openssl_error("cannot set the TLS 1.2 ciphers");
  return std::nullopt;
}

std::optional<std::string> tls_identity_change_problem(const ssl_ctx_st* ctx, const TlsIdentity& identity) {
  // OpenSSL keeps one certificate per key type: one of another type would be added beside the
  // old, which would go on being served to clients that prefer its type.
  EVP_PKEY* current = SSL_CTX_get0_privatekey(ctx);
  if (!current || EVP_PKEY_base_id(current) == EVP_PKEY_base_id(identity.key.get())) return std::nullopt;
  return std::string("the new key is ") + EVP_PKEY_get0_type_name(identity.key.get()) + " where the served one is " +
         EVP_PKEY_get0_type_name(current) + ": a change of key type needs a restart";
}

std::optional<std::string> apply_tls_identity(ssl_ctx_st* ctx, const TlsIdentity& identity) {
  STACK_OF(X509)* chain = sk_X509_new_null();
  for (const auto& intermediate : identity.chain) sk_X509_push(chain, intermediate.get());
  // Certificate, key and chain in one call (override: replacing the served ones), checked
  // against each other; on failure the context keeps what it had.
  int ok = chain ? SSL_CTX_use_cert_and_key(ctx, identity.certificate.get(), identity.key.get(), chain, 1) : 0;
  sk_X509_free(chain);  // the context took its own references
  if (ok != 1) return openssl_error("cannot use the new certificate and key");
  return std::nullopt;
}

}  // namespace raptor::net
