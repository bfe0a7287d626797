#include "config/tls_files.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace raptor {
namespace {

struct FileCloser {
  void operator()(FILE* f) const { fclose(f); }
};
using File = std::unique_ptr<FILE, FileCloser>;

File open_pem(const std::string& path, const char* what, std::string& why) {
  File f(fopen(path.c_str(), "re"));
  if (!f) why = std::string("cannot read the TLS ") + what + " " + path + ": " + std::strerror(errno);
  return f;
}

std::shared_ptr<x509_st> next_certificate(FILE* f) {
  X509* x = PEM_read_X509(f, nullptr, nullptr, nullptr);
  return x ? std::shared_ptr<x509_st>(x, X509_free) : nullptr;
}

std::string hex(const unsigned char* bytes, size_t n, const char* separator) {
  static const char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    if (i) out += separator;
    out += kDigits[bytes[i] >> 4];
    out += kDigits[bytes[i] & 15];
  }
  return out;
}

}  // namespace

std::string TlsIdentity::describe() const {
  if (!certificate) return "none";
  std::string out = "serial ";
  if (BIGNUM* serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(certificate.get()), nullptr)) {
    if (char* text = BN_bn2hex(serial)) out += text, OPENSSL_free(text);
    BN_free(serial);
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (X509_digest(certificate.get(), EVP_sha256(), digest, &length)) out += ", SHA-256 " + hex(digest, length, ":");
  if (BIO* bio = BIO_new(BIO_s_mem())) {
    if (ASN1_TIME_print(bio, X509_get0_notAfter(certificate.get()))) {
      char* text = nullptr;
      long n = BIO_get_mem_data(bio, &text);
      out += ", valid until " + std::string(text, size_t(n));
    }
    BIO_free(bio);
  }
  return out;
}

std::optional<std::string> load_tls_identity(const std::string& cert, const std::string& key, TlsIdentity& out) {
  std::string why;
  File cert_file = open_pem(cert, "certificate", why);
  if (!cert_file) return why;
  File key_file = open_pem(key, "key", why);
  if (!key_file) return why;
  TlsIdentity identity;
  identity.certificate = next_certificate(cert_file.get());
  while (auto intermediate = identity.certificate ? next_certificate(cert_file.get()) : nullptr)
    identity.chain.push_back(std::move(intermediate));
  // No passphrase prompt: a key that needs one cannot be loaded by an unattended server either.
  auto no_passphrase = [](char*, int, int, void*) { return 0; };
  if (EVP_PKEY* pkey = PEM_read_PrivateKey(key_file.get(), nullptr, no_passphrase, nullptr))
    identity.key.reset(pkey, EVP_PKEY_free);
  ERR_clear_error();  // the end of the chain reads as an error
  if (!identity.certificate) return "the TLS certificate " + cert + " holds no PEM certificate";
  if (!identity.key) return "the TLS key " + key + " holds no PEM private key (or one protected by a passphrase)";
  if (X509_check_private_key(identity.certificate.get(), identity.key.get()) != 1) {
    ERR_clear_error();
    return "the TLS key " + key + " does not match the certificate " + cert;
  }
  out = std::move(identity);
  return std::nullopt;
}

std::optional<std::string> tls_files_problem(const std::string& cert, const std::string& key) {
  TlsIdentity ignored;
  return load_tls_identity(cert, key, ignored);
}

std::optional<std::string> ca_file_problem(const std::string& path) {
  std::string why;
  File f = open_pem(path, "CA file", why);
  if (!f) return why;
  bool found = next_certificate(f.get()) != nullptr;
  ERR_clear_error();
  if (!found) return "the TLS CA file " + path + " holds no PEM certificate";
  return std::nullopt;
}

}  // namespace raptor
