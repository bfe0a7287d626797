// Pusher signatures: HMAC-SHA256 and MD5 as lower-case hex, compared in constant time.
// Auth strings are checked against the raw strings the client sent, never re-serialized JSON.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace raptor::signature {

std::string hmac_sha256_hex(std::string_view key, std::string_view message);
std::string md5_hex(std::string_view data);
std::string sha256_hex(std::string_view data);

// Looks up this thread's digests now. The first signature computed in a process otherwise pays
// OpenSSL's one-time set-up (tens of milliseconds under ASan), e.g. inside a script's time budget.
void prepare_thread();

// Equal length and bytes, in time independent of where they differ.
bool constant_time_equal(std::string_view a, std::string_view b);

// What an app's auth endpoint signs: for a subscription "{socket_id}:{channel}", with
// ":{channel_data}" (as sent) on a presence channel; for pusher:signin "{socket_id}::user::{user_data}".
std::string subscription_string_to_sign(std::string_view socket_id, std::string_view channel,
                                        std::optional<std::string_view> channel_data);
std::string signin_string_to_sign(std::string_view socket_id, std::string_view user_data);

// Checks a subscription or sign-in `auth` value "<app_key>:<hex hmac>" over `string_to_sign`.
bool verify_auth(std::string_view auth, std::string_view app_key, std::string_view app_secret,
                 std::string_view string_to_sign);

}  // namespace raptor::signature
