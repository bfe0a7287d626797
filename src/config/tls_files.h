// The TLS certificate and key checked before anything is served, so that `raptor check` and
// the start report a missing file or a key of another certificate as one line, not as the TLS
// library's errors after the banner. A reload (SIGHUP) reads them again into a TlsIdentity,
// which the workers then put in place of the one they serve (net/server_tls.h).
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

struct x509_st;
struct evp_pkey_st;

namespace raptor {

// A certificate chain and its private key, read and checked, in memory.
struct TlsIdentity {
  std::shared_ptr<x509_st> certificate;             // the leaf
  std::vector<std::shared_ptr<x509_st>> chain;      // the intermediates after it in the file
  std::shared_ptr<evp_pkey_st> key;
  // "serial 0A1B…, SHA-256 3F:…, valid until Jan  1 00:00:00 2027 GMT": what the logs show.
  std::string describe() const;
};

// Reads the PEM certificate (chain) at `cert` and the PEM private key at `key` into `out`; why
// they cannot serve TLS (unreadable, not PEM, or the key does not match the certificate) else.
std::optional<std::string> load_tls_identity(const std::string& cert, const std::string& key, TlsIdentity& out);

// The same check, without keeping what was read.
std::optional<std::string> tls_files_problem(const std::string& cert, const std::string& key);

// Why the PEM file at `path` is no CA bundle (unreadable, or no certificate in it); nothing
// when it holds at least one certificate.
std::optional<std::string> ca_file_problem(const std::string& path);

}  // namespace raptor
