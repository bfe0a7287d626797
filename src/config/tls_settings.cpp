#include "config/tls_settings.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <memory>

#include "common/text.h"

namespace raptor {
namespace {

using Context = std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)>;

// Whether OpenSSL selects at least one TLS 1.2 cipher for `list`.
bool selects_a_cipher(const std::string& list) {
  Context ctx(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
  bool ok = ctx && SSL_CTX_set_cipher_list(ctx.get(), list.c_str()) == 1;
  ERR_clear_error();
  return ok;
}

}  // namespace

const char* const kDefaultTlsCiphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

std::optional<TlsVersion> tls_version_named(std::string_view name) {
  if (name == "1.2" || name == "TLSv1.2") return TlsVersion::kTls12;
  if (name == "1.3" || name == "TLSv1.3") return TlsVersion::kTls13;
  return std::nullopt;
}

const char* tls_version_name(TlsVersion version) { return version == TlsVersion::kTls13 ? "1.3" : "1.2"; }

std::optional<std::string> tls_ciphers_problem(const std::string& list) {
  if (list.empty()) return "an empty cipher list";
  // OpenSSL skips names it does not know as long as one other matches: a typo would silently
  // narrow the list, so each name is tried on its own. Operators (!X, -X, +X, @STRENGTH) select
  // nothing by themselves and are left to the whole list's check.
  for (std::string_view element : split_at(list, ':')) {
    if (element.empty()) return "an empty name between two ':'";
    if (element.find_first_of(", ") != std::string_view::npos) return "names are separated by ':', not ',' or spaces";
    char first = element.front();
    if (first == '!' || first == '-' || first == '+' || first == '@') continue;
    if (!selects_a_cipher(std::string(element)))
      return "'" + std::string(element) + "' is no TLS 1.2 cipher or cipher group OpenSSL knows (see openssl ciphers -v)";
  }
  if (!selects_a_cipher(list)) return "the list leaves no TLS 1.2 cipher";
  return std::nullopt;
}

}  // namespace raptor
