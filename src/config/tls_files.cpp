#include "config/tls_files.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

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

}  // namespace

std::optional<std::string> tls_files_problem(const std::string& cert, const std::string& key) {
  std::string why;
  File cert_file = open_pem(cert, "certificate", why);
  if (!cert_file) return why;
  File key_file = open_pem(key, "key", why);
  if (!key_file) return why;
  std::unique_ptr<X509, decltype(&X509_free)> x509(PEM_read_X509(cert_file.get(), nullptr, nullptr, nullptr),
                                                   X509_free);
  // No passphrase prompt: a key that needs one cannot be loaded by an unattended server either.
  auto no_passphrase = [](char*, int, int, void*) { return 0; };
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> pkey(
      PEM_read_PrivateKey(key_file.get(), nullptr, no_passphrase, nullptr), EVP_PKEY_free);
  ERR_clear_error();
  if (!x509) return "the TLS certificate " + cert + " holds no PEM certificate";
  if (!pkey) return "the TLS key " + key + " holds no PEM private key (or one protected by a passphrase)";
  if (X509_check_private_key(x509.get(), pkey.get()) != 1) {
    ERR_clear_error();
    return "the TLS key " + key + " does not match the certificate " + cert;
  }
  return std::nullopt;
}

}  // namespace raptor
