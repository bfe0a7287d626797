// net/server_tls on a context of its own: the version floor and the TLS 1.2 cipher list, a new
// certificate and key put in place of the served ones (what a reload does), refused when its key
// is of another type; and what the reload's log line says of a certificate.
#include "net/server_tls.h"

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <catch2/catch.hpp>
#include <memory>
#include <string>

using namespace raptor;

namespace {

// A self-signed certificate with a fresh key: RSA, or EC (P-256).
TlsIdentity self_signed(long serial, bool ec = false) {
  TlsIdentity identity;
  identity.key.reset(ec ? EVP_EC_gen("P-256") : EVP_RSA_gen(2048), EVP_PKEY_free);
  REQUIRE(identity.key);
  X509* x = X509_new();
  identity.certificate.reset(x, X509_free);
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
  X509_gmtime_adj(X509_getm_notBefore(x), 0);
  X509_gmtime_adj(X509_getm_notAfter(x), 86400);
  X509_set_pubkey(x, identity.key.get());
  X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
  X509_set_issuer_name(x, X509_get_subject_name(x));
  REQUIRE(X509_sign(x, identity.key.get(), EVP_sha256()) > 0);
  return identity;
}

using Context = std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)>;
Context server_context() { return Context(SSL_CTX_new(TLS_server_method()), SSL_CTX_free); }

bool offers(SSL_CTX* ctx, const char* cipher) {
  STACK_OF(SSL_CIPHER)* ciphers = SSL_CTX_get_ciphers(ctx);
  for (int i = 0; i < sk_SSL_CIPHER_num(ciphers); ++i)
    if (std::string(SSL_CIPHER_get_name(sk_SSL_CIPHER_value(ciphers, i))) == cipher) return true;
  return false;
}

}  // namespace

TEST_CASE("the listener's context takes the version floor and the TLS 1.2 ciphers", "[tls]") {
  Context ctx = server_context();
  CHECK_FALSE(net::apply_tls_policy(ctx.get(), TlsVersion::kTls12, kDefaultTlsCiphers).has_value());
  CHECK(SSL_CTX_get_min_proto_version(ctx.get()) == TLS1_2_VERSION);
  CHECK(offers(ctx.get(), "ECDHE-RSA-AES128-GCM-SHA256"));
  CHECK(offers(ctx.get(), "ECDHE-ECDSA-CHACHA20-POLY1305"));
  CHECK_FALSE(offers(ctx.get(), "AES128-SHA"));          // no forward secrecy, CBC
  CHECK_FALSE(offers(ctx.get(), "DHE-RSA-AES128-GCM-SHA256"));  // finite-field DHE
  CHECK(offers(ctx.get(), "TLS_AES_128_GCM_SHA256"));     // TLS 1.3's suites are left alone
  CHECK_FALSE(net::apply_tls_policy(ctx.get(), TlsVersion::kTls13, "ECDHE-RSA-AES256-GCM-SHA384").has_value());
  CHECK(SSL_CTX_get_min_proto_version(ctx.get()) == TLS1_3_VERSION);
  CHECK(offers(ctx.get(), "ECDHE-RSA-AES256-GCM-SHA384"));
  CHECK_FALSE(offers(ctx.get(), "ECDHE-RSA-AES128-GCM-SHA256"));
}

TEST_CASE("a new certificate and key replace the served ones, unless the key type changes", "[tls][reload]") {
  Context ctx = server_context();
  TlsIdentity first = self_signed(1000), renewed = self_signed(1001), elliptic = self_signed(1002, true);
  CHECK_FALSE(net::tls_identity_change_problem(ctx.get(), first).has_value());  // nothing served yet
  REQUIRE_FALSE(net::apply_tls_identity(ctx.get(), first).has_value());
  CHECK(SSL_CTX_get0_certificate(ctx.get()) == first.certificate.get());
  CHECK_FALSE(net::tls_identity_change_problem(ctx.get(), renewed).has_value());
  REQUIRE_FALSE(net::apply_tls_identity(ctx.get(), renewed).has_value());
  CHECK(SSL_CTX_get0_certificate(ctx.get()) == renewed.certificate.get());
  CHECK(SSL_CTX_get0_privatekey(ctx.get()) == renewed.key.get());
  CHECK(SSL_CTX_check_private_key(ctx.get()) == 1);
  CHECK(net::tls_identity_change_problem(ctx.get(), elliptic).value_or("") ==
        "the new key is EC where the served one is RSA: a change of key type needs a restart");
  // A key that is not the certificate's is refused, and the context keeps what it served.
  TlsIdentity mismatched = renewed;
  mismatched.key = first.key;
  CHECK(net::apply_tls_identity(ctx.get(), mismatched).has_value());
  CHECK(SSL_CTX_get0_certificate(ctx.get()) == renewed.certificate.get());
}

TEST_CASE("a certificate is described by serial, SHA-256 fingerprint and expiry", "[tls]") {
  std::string text = self_signed(0x3E8).describe();
  INFO(text);
  CHECK(text.rfind("serial 03E8, SHA-256 ", 0) == 0);
  CHECK(text.find(", valid until ") != std::string::npos);
  CHECK(text.find(" GMT") != std::string::npos);
  CHECK(TlsIdentity{}.describe() == "none");
}
