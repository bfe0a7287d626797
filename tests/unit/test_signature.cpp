// protocol/signature: HMAC-SHA256 and MD5 hex, constant-time compare, and auth-string checks.
#include "protocol/signature.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdio>
#include <string>

#include "support.h"

using namespace raptor;
using raptor::test::kRefKey;
using raptor::test::kRefSecret;

TEST_CASE("hmac_sha256_hex reproduces the Pusher auth-signature vectors", "[signature]") {
  // reference §2.7
  CHECK(signature::hmac_sha256_hex(kRefSecret, "1234.1234:private-foobar") ==
        "58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4");
  CHECK(signature::hmac_sha256_hex(kRefSecret, "1234.1234::user::{\"id\":\"12345\"}") ==
        "4708d583dada6a56435fb8bc611c77c359a31eebde13337c16ab43aa6de336ba");
  CHECK(signature::hmac_sha256_hex(
            kRefSecret, "1234.1234:presence-foobar:{\"user_id\":10,\"user_info\":{\"name\":\"Mr. Channels\"}}") ==
        "31935e7d86dba64c2a90aed31fdc61869f9b22ba9d8863bba239c03ca481bc80");
}

TEST_CASE("hmac_sha256_hex reproduces the HTTP API worked example", "[signature]") {
  // reference §3.3
  CHECK(signature::hmac_sha256_hex(kRefSecret,
                                   "POST\n/apps/3/events\nauth_key=278d425bdf160c739803&auth_timestamp=1353088179"
                                   "&auth_version=1.0&body_md5=ec365a775a4cd0599faeb73354201b6f") ==
        "da454824c97ba181a32ccc17a72625ba02771f50b50e1e7430e47a1f3f457e6c");
}

TEST_CASE("hmac_sha256_hex matches RFC 4231 and handles NUL bytes", "[signature]") {
  CHECK(signature::hmac_sha256_hex("Jefe", "what do ya want for nothing?") ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  using namespace std::string_view_literals;
  CHECK(signature::hmac_sha256_hex("k\0ey"sv, "m\0sg"sv) ==
        "d846dc7408aafb0032c18fe477e530dcffc8dd88bd95953f4ea555df894338be");
}

TEST_CASE("hmac_sha256_hex hashes a key longer than a block first (RFC 4231 case 6)", "[signature]") {
  CHECK(signature::hmac_sha256_hex(std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First") ==
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

// The keyed states are cached per thread (at most 64 keys, then started over): every key length
// around the block size, more keys than the cache holds, and keys seen again, against OpenSSL's
// one-shot HMAC().
TEST_CASE("hmac_sha256_hex agrees with OpenSSL's HMAC for any key, cached or not", "[signature]") {
  auto reference = [](const std::string& key, const std::string& message) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), key.data(), int(key.size()), reinterpret_cast<const unsigned char*>(message.data()),
         message.size(), mac, &len);
    std::string hex;
    char byte[3];
    for (unsigned i = 0; i < len; ++i) {
      snprintf(byte, sizeof byte, "%02x", mac[i]);
      hex += byte;
    }
    return hex;
  };
  for (int round = 0; round < 2; ++round) {
    for (size_t n = 0; n < 150; ++n) {
      std::string key(n, char('a' + n % 26)), message = "message " + std::to_string(n * 7919);
      INFO("key length " << n << ", round " << round);
      CHECK(signature::hmac_sha256_hex(key, message) == reference(key, message));
    }
  }
}

TEST_CASE("md5_hex is lower-case hex over the raw bytes", "[signature]") {
  CHECK(signature::md5_hex("{\"name\":\"foo\",\"channels\":[\"project-3\"],\"data\":\"{\\\"some\\\":\\\"data\\\"}\"}") ==
        "ec365a775a4cd0599faeb73354201b6f");
  CHECK(signature::md5_hex("") == "d41d8cd98f00b204e9800998ecf8427e");
  CHECK(signature::md5_hex("abc") == "900150983cd24fb0d6963f7d28e17f72");
  CHECK(signature::md5_hex(std::string_view("a\0b", 3)) == "70350f6027bce3713f6b76473084309b");
}

TEST_CASE("sha256_hex is lower-case hex over the raw bytes", "[signature]") {
  CHECK(signature::sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(signature::sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("constant_time_equal compares length and every byte", "[signature]") {
  CHECK(signature::constant_time_equal("", ""));
  CHECK(signature::constant_time_equal("abc", "abc"));
  CHECK_FALSE(signature::constant_time_equal("abc", "abd"));
  CHECK_FALSE(signature::constant_time_equal("abc", "xbc"));
  CHECK_FALSE(signature::constant_time_equal("abc", "ab"));
  CHECK_FALSE(signature::constant_time_equal("ab", "abc"));
  CHECK_FALSE(signature::constant_time_equal("", "a"));
  CHECK_FALSE(signature::constant_time_equal("ABC", "abc"));
  CHECK_FALSE(signature::constant_time_equal(std::string_view("a\0c", 3), std::string_view("a\0d", 3)));
}

TEST_CASE("verify_auth accepts key:signature over the string to sign", "[signature]") {
  const std::string to_sign = "1234.1234:private-foobar";
  const std::string good_sig = "58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4";
  const std::string good = std::string(kRefKey) + ":" + good_sig;

  CHECK(signature::verify_auth(good, kRefKey, kRefSecret, to_sign));

  SECTION("wrong key") {
    CHECK_FALSE(signature::verify_auth("278d425bdf160c739804:" + good_sig, kRefKey, kRefSecret, to_sign));
    CHECK_FALSE(signature::verify_auth(":" + good_sig, kRefKey, kRefSecret, to_sign));
  }
  SECTION("wrong secret") {
    CHECK_FALSE(signature::verify_auth(good, kRefKey, "another-secret", to_sign));
  }
  SECTION("wrong signature") {
    std::string bad = good;
    bad.back() = bad.back() == '4' ? '5' : '4';
    CHECK_FALSE(signature::verify_auth(bad, kRefKey, kRefSecret, to_sign));
    CHECK_FALSE(signature::verify_auth(std::string(kRefKey) + ":", kRefKey, kRefSecret, to_sign));
    CHECK_FALSE(signature::verify_auth(good + "00", kRefKey, kRefSecret, to_sign));
    CHECK_FALSE(signature::verify_auth(good + ":extra", kRefKey, kRefSecret, to_sign));
  }
  SECTION("upper-case hex is not the signature") {
    std::string upper = good_sig;
    for (char& ch : upper) ch = char(std::toupper(static_cast<unsigned char>(ch)));
    CHECK_FALSE(signature::verify_auth(std::string(kRefKey) + ":" + upper, kRefKey, kRefSecret, to_sign));
  }
  SECTION("signature over another string") {
    CHECK_FALSE(signature::verify_auth(good, kRefKey, kRefSecret, "1234.1235:private-foobar"));
    CHECK_FALSE(signature::verify_auth(good, kRefKey, kRefSecret, "1234.1234:private-foobaz"));
  }
  SECTION("missing colon or empty") {
    CHECK_FALSE(signature::verify_auth(good_sig, kRefKey, kRefSecret, to_sign));
    CHECK_FALSE(signature::verify_auth(std::string(kRefKey) + good_sig, kRefKey, kRefSecret, to_sign));
    CHECK_FALSE(signature::verify_auth("", kRefKey, kRefSecret, to_sign));
  }
}

TEST_CASE("verify_auth checks presence and sign-in strings from the reference", "[signature]") {
  CHECK(signature::verify_auth(
      std::string(kRefKey) + ":31935e7d86dba64c2a90aed31fdc61869f9b22ba9d8863bba239c03ca481bc80", kRefKey,
      kRefSecret, "1234.1234:presence-foobar:{\"user_id\":10,\"user_info\":{\"name\":\"Mr. Channels\"}}"));
  // The same channel_data re-serialized with a space is another string: it must not verify.
  CHECK_FALSE(signature::verify_auth(
      std::string(kRefKey) + ":31935e7d86dba64c2a90aed31fdc61869f9b22ba9d8863bba239c03ca481bc80", kRefKey,
      kRefSecret, "1234.1234:presence-foobar:{\"user_id\": 10,\"user_info\":{\"name\":\"Mr. Channels\"}}"));
  CHECK(signature::verify_auth(
      std::string(kRefKey) + ":4708d583dada6a56435fb8bc611c77c359a31eebde13337c16ab43aa6de336ba", kRefKey,
      kRefSecret, "1234.1234::user::{\"id\":\"12345\"}"));
}

TEST_CASE("the strings an auth endpoint signs: subscription, presence subscription, sign-in", "[signature]") {
  CHECK(signature::subscription_string_to_sign("1234.1234", "private-foobar", std::nullopt) == "1234.1234:private-foobar");
  CHECK(signature::subscription_string_to_sign("1234.1234", "presence-foobar", R"({"user_id":10})") ==
        R"(1234.1234:presence-foobar:{"user_id":10})");
  CHECK(signature::signin_string_to_sign("1234.1234", R"({"id":"12345"})") == R"(1234.1234::user::{"id":"12345"})");
}
