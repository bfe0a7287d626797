#include "protocol/signature.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace raptor::signature {
namespace {

std::string to_hex(const unsigned char* bytes, size_t n) {
  static const char digits[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = digits[bytes[i] >> 4];
    out[2 * i + 1] = digits[bytes[i] & 15];
  }
  return out;
}

}  // namespace

// OpenSSL 3's one-shot HMAC() and EVP_Digest() look their algorithm up by name on every call: for
// an HTTP publish that was ~27,000 instructions of ~130,000, most of the signature check. So each
// thread fetches SHA-256 and MD5 once, and keeps per key the SHA-256 state after the inner and
// outer pads (RFC 2104), leaving a call to hash only the message and the inner digest.
namespace {

constexpr size_t kBlock = 64;  // SHA-256's block size
constexpr size_t kMostKeys = 64;  // app secrets are few; keys from scripts may be many: start over

struct Digest {
  EVP_MD* md;
  EVP_MD_CTX* scratch = EVP_MD_CTX_new();
  explicit Digest(const char* name) : md(EVP_MD_fetch(nullptr, name, nullptr)) {}
  ~Digest() {
    EVP_MD_CTX_free(scratch);
    EVP_MD_free(md);
  }
  std::string hex(std::string_view data) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestInit_ex2(scratch, md, nullptr);
    EVP_DigestUpdate(scratch, data.data(), data.size());
    EVP_DigestFinal_ex(scratch, digest, &len);
    return to_hex(digest, len);
  }
};

Digest& sha256() {
  thread_local Digest d("SHA256");
  return d;
}

Digest& md5() {
  thread_local Digest d("MD5");
  return d;
}

// SHA-256 states with a key's inner and outer pad already hashed.
struct KeyedState {
  EVP_MD_CTX* inner = EVP_MD_CTX_new();
  EVP_MD_CTX* outer = EVP_MD_CTX_new();
  KeyedState(const KeyedState&) = delete;
  KeyedState& operator=(const KeyedState&) = delete;
  explicit KeyedState(std::string_view key) {
    Digest& d = sha256();
    unsigned char block[kBlock] = {};
    if (key.size() > kBlock) {
      unsigned int n = 0;
      EVP_Digest(key.data(), key.size(), block, &n, d.md, nullptr);
    } else {
      memcpy(block, key.data(), key.size());
    }
    unsigned char pad[kBlock];
    for (size_t i = 0; i < kBlock; ++i) pad[i] = block[i] ^ 0x36;
    EVP_DigestInit_ex2(inner, d.md, nullptr);
    EVP_DigestUpdate(inner, pad, kBlock);
    for (size_t i = 0; i < kBlock; ++i) pad[i] = block[i] ^ 0x5c;
    EVP_DigestInit_ex2(outer, d.md, nullptr);
    EVP_DigestUpdate(outer, pad, kBlock);
    OPENSSL_cleanse(block, sizeof block);
    OPENSSL_cleanse(pad, sizeof pad);
  }
  ~KeyedState() {
    EVP_MD_CTX_free(inner);
    EVP_MD_CTX_free(outer);
  }
};

// A short list searched in place: a map keyed by std::string would build one from the key on
// every call (a heap allocation per signature check for secrets longer than 15 bytes).
const KeyedState& keyed_state(std::string_view key) {
  thread_local std::vector<std::pair<std::string, std::unique_ptr<KeyedState>>> states;
  for (const auto& [known, state] : states)
    if (known == key) return *state;
  if (states.size() >= kMostKeys) states.clear();
  states.emplace_back(std::string(key), std::make_unique<KeyedState>(key));
  return *states.back().second;
}

}  // namespace

std::string hmac_sha256_hex(std::string_view key, std::string_view message) {
  const KeyedState& keyed = keyed_state(key);
  EVP_MD_CTX* ctx = sha256().scratch;
  unsigned char inner[EVP_MAX_MD_SIZE], mac[EVP_MAX_MD_SIZE];
  unsigned int inner_len = 0, len = 0;
  EVP_MD_CTX_copy_ex(ctx, keyed.inner);
  EVP_DigestUpdate(ctx, message.data(), message.size());
  EVP_DigestFinal_ex(ctx, inner, &inner_len);
  EVP_MD_CTX_copy_ex(ctx, keyed.outer);
  EVP_DigestUpdate(ctx, inner, inner_len);
  EVP_DigestFinal_ex(ctx, mac, &len);
  return to_hex(mac, len);
}

std::string md5_hex(std::string_view data) { return md5().hex(data); }

std::string sha256_hex(std::string_view data) { return sha256().hex(data); }

void prepare_thread() {
  md5();
  keyed_state("");
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool verify_auth(std::string_view auth, std::string_view app_key, std::string_view app_secret,
                 std::string_view string_to_sign) {
  size_t colon = auth.find(':');
  if (colon == std::string_view::npos) return false;
  bool key_ok = constant_time_equal(auth.substr(0, colon), app_key);
  bool sig_ok = constant_time_equal(auth.substr(colon + 1), hmac_sha256_hex(app_secret, string_to_sign));
  return key_ok & sig_ok;
}

std::string subscription_string_to_sign(std::string_view socket_id, std::string_view channel,
                                        std::optional<std::string_view> channel_data) {
  std::string out;
  out.reserve(socket_id.size() + channel.size() + 1 + (channel_data ? channel_data->size() + 1 : 0));
  out.append(socket_id).append(":").append(channel);
  if (channel_data) out.append(":").append(*channel_data);
  return out;
}

std::string signin_string_to_sign(std::string_view socket_id, std::string_view user_data) {
  return std::string(socket_id) + "::user::" + std::string(user_data);
}

}  // namespace raptor::signature
