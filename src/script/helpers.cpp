#include "script/helpers.h"

#include <mruby/class.h>
#include <mruby/error.h>
#include <mruby/string.h>
#include <openssl/evp.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "common/log.h"
#include "config/cluster_settings.h"
#include "config/tls_files.h"
#include "config/tls_settings.h"
#include "config/webhook_spec.h"
#include "core/wildcard_index.h"
#include "protocol/channel_name.h"
#include "protocol/signature.h"
#include "script/ruby_json.h"
#include "script/runaway_guard.h"

namespace raptor::script {
namespace {

// mruby raises by longjmp, which skips C++ destructors: nothing below holds heap memory in a C++
// object across a call that may raise (any allocation may, at the memory cap).

std::string_view view(mrb_value s) { return {RSTRING_PTR(s), size_t(RSTRING_LEN(s))}; }

// A Ruby string of `capacity` bytes for `fill` to write into; fill returns the length written.
template <typename Fill>
mrb_value ruby_buffer(mrb_state* mrb, size_t capacity, Fill fill) {
  mrb_value s = mrb_str_new_capa(mrb, static_cast<mrb_int>(capacity));
  size_t n = fill(reinterpret_cast<unsigned char*>(RSTRING_PTR(s)));
  return mrb_str_resize(mrb, s, static_cast<mrb_int>(n));
}

// Raptor.hmac_sha256(key, data) -> lower-case hex
mrb_value hmac_sha256(mrb_state* mrb, mrb_value) {
  mrb_value key, data;
  mrb_get_args(mrb, "SS", &key, &data);
  char hex[64];
  {
    RunawayGuard::Unstoppable hold;  // C++ memory and OpenSSL: not to be left half-done
    std::string digest = signature::hmac_sha256_hex(view(key), view(data));
    digest.copy(hex, sizeof hex);
  }
  return mrb_str_new(mrb, hex, sizeof hex);
}

// Raptor.sha256(data) -> lower-case hex
mrb_value sha256(mrb_state* mrb, mrb_value) {
  mrb_value data;
  mrb_get_args(mrb, "S", &data);
  char hex[64];
  {
    RunawayGuard::Unstoppable hold;
    std::string digest = signature::sha256_hex(view(data));
    digest.copy(hex, sizeof hex);
  }
  return mrb_str_new(mrb, hex, sizeof hex);
}

// Raptor.secure_compare(a, b): equal, in time that does not depend on where they differ.
mrb_value secure_compare(mrb_state* mrb, mrb_value) {
  mrb_value a, b;
  mrb_get_args(mrb, "SS", &a, &b);
  return mrb_bool_value(signature::constant_time_equal(view(a), view(b)));
}

// Raptor.base64_encode(data) -> strict Base64 (no line breaks)
mrb_value base64_encode(mrb_state* mrb, mrb_value) {
  mrb_value data;
  mrb_get_args(mrb, "S", &data);
  if (RSTRING_LEN(data) > (1 << 28)) mrb_raise(mrb, E_ARGUMENT_ERROR, "base64_encode: too long");
  return ruby_buffer(mrb, 4 * ((size_t(RSTRING_LEN(data)) + 2) / 3) + 1, [&](unsigned char* out) {
    return size_t(EVP_EncodeBlock(out, reinterpret_cast<const unsigned char*>(RSTRING_PTR(data)), int(RSTRING_LEN(data))));
  });
}

// Raptor.base64_decode(text) -> bytes; ArgumentError unless it is strict Base64.
mrb_value base64_decode(mrb_state* mrb, mrb_value) {
  mrb_value text;
  mrb_get_args(mrb, "S", &text);
  size_t len = size_t(RSTRING_LEN(text));
  if (len % 4 != 0) mrb_raise(mrb, E_ARGUMENT_ERROR, "invalid base64: length is not a multiple of 4");
  if (len > (1u << 28)) mrb_raise(mrb, E_ARGUMENT_ERROR, "base64_decode: too long");
  int n = -1;
  mrb_value out = ruby_buffer(mrb, len / 4 * 3 + 1, [&](unsigned char* buffer) {
    n = EVP_DecodeBlock(buffer, reinterpret_cast<const unsigned char*>(RSTRING_PTR(text)), int(len));
    return n < 0 ? size_t(0) : size_t(n);
  });
  if (n < 0) mrb_raise(mrb, E_ARGUMENT_ERROR, "invalid base64");
  // EVP_DecodeBlock counts the padding as zero bytes.
  size_t pad = len >= 2 && RSTRING_PTR(text)[len - 1] == '=' ? (RSTRING_PTR(text)[len - 2] == '=' ? 2 : 1) : 0;
  return mrb_str_resize(mrb, out, static_cast<mrb_int>(size_t(n) - pad));
}

// Raptor.now -> seconds since the epoch, as a Float
mrb_value now(mrb_state* mrb, mrb_value) {
  using namespace std::chrono;
  return mrb_float_value(mrb, duration<double>(system_clock::now().time_since_epoch()).count());
}

// Raptor.log(message): one line on raptor's log.
mrb_value log_line(mrb_state* mrb, mrb_value) {
  mrb_value message;
  mrb_get_args(mrb, "S", &message);
  std::string_view m = view(message);
  RunawayGuard::Unstoppable hold;  // the log's lock
  log::info("script: %.*s", int(m.size() > 2000 ? 2000 : m.size()), m.data());
  return mrb_nil_value();
}

// Raptor.env(name, default = nil): a RAPTOR_* environment variable; the only way a script sees
// the environment, so that secrets can stay out of the config file.
mrb_value env(mrb_state* mrb, mrb_value) {
  mrb_value name, fallback = mrb_undef_value();
  mrb_get_args(mrb, "S|o", &name, &fallback);
  if (view(name).substr(0, 7) != "RAPTOR_")
    mrb_raisef(mrb, E_ARGUMENT_ERROR, "env(%v): only RAPTOR_* variables can be read", name);
  if (const char* v = std::getenv(mrb_str_to_cstr(mrb, name))) return mrb_str_new_cstr(mrb, v);
  if (mrb_undef_p(fallback)) mrb_raisef(mrb, E_KEY_ERROR, "environment variable %v is not set", name);
  return fallback;
}

// JSON.parse(text) -> Hash/Array/…; JSON::ParserError when malformed.
mrb_value json_parse(mrb_state* mrb, mrb_value) {
  mrb_value text;
  mrb_get_args(mrb, "S", &text);
  return ruby_parse_json(mrb, view(text));
}

// A Ruby string of C memory the caller frees afterwards: on failure (the memory cap) the
// exception comes back instead of being raised, so that the caller can free first.
struct Copy {
  const char* bytes;
  size_t size;
};
mrb_value copy_string(mrb_state* mrb, void* data) {
  auto* c = static_cast<Copy*>(data);
  return mrb_str_new(mrb, c->bytes, static_cast<mrb_int>(c->size));
}

// `why` as a Ruby string, nil when there is none; `failed` as for Copy: the caller raises the
// result once its C++ locals are gone.
mrb_value reason_or_nil(mrb_state* mrb, const std::optional<std::string>& why, mrb_bool& failed) {
  if (!why) return mrb_nil_value();
  Copy copy{why->data(), why->size()};
  return mrb_protect_error(mrb, copy_string, &copy, &failed);
}

// JSON.generate(value) -> compact JSON text; TypeError for what JSON cannot hold.
mrb_value json_generate(mrb_state* mrb, mrb_value) {
  mrb_value value;
  mrb_get_args(mrb, "o", &value);
  mrb_value result;
  mrb_bool failed = false;
  bool generated = false;
  {
    RunawayGuard::Unstoppable hold;  // C++ and cJSON memory (building raises nothing)
    std::string error;
    json::Ptr tree = json_from_ruby(mrb, value, error);
    char* printed = tree ? cJSON_PrintUnformatted(tree.get()) : nullptr;
    generated = printed != nullptr;
    if (!generated) error = "JSON.generate: " + error;
    Copy copy = generated ? Copy{printed, strlen(printed)} : Copy{error.data(), error.size()};
    result = mrb_protect_error(mrb, copy_string, &copy, &failed);
    cJSON_free(printed);
  }
  if (failed) mrb_exc_raise(mrb, result);
  if (!generated) mrb_exc_raise(mrb, mrb_exc_new_str(mrb, E_TYPE_ERROR, result));
  return result;
}

std::vector<std::string> lines_of(std::string_view text) {
  std::vector<std::string> out;
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    out.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// Raptor.webhook_error(url, events_csv, prefix, suffix, headers, ca, verify_tls) -> nil, or why
// the receiver is refused (the config DSL raises it at the line of the `webhook`); headers are
// "Name: Value" lines, ca "" for none. The same checks as --webhook (config/webhook_spec.h), and
// the CA file's (config/tls_files.h).
mrb_value webhook_error(mrb_state* mrb, mrb_value) {
  mrb_value url, events, prefix, suffix, headers, ca;
  mrb_bool verify_tls = true;
  mrb_get_args(mrb, "SSSSSSb", &url, &events, &prefix, &suffix, &headers, &ca, &verify_tls);
  mrb_value result = mrb_nil_value();
  mrb_bool failed = false;
  {
    WebhookParts parts;
    parts.url = std::string(view(url));
    for (std::string& name : lines_of(view(events))) parts.events.push_back(std::move(name));
    parts.prefix = std::string(view(prefix));
    parts.suffix = std::string(view(suffix));
    parts.headers = lines_of(view(headers));
    parts.ca_file = std::string(view(ca));
    parts.verify_tls = verify_tls;
    WebhookEndpoint endpoint;
    std::optional<std::string> why = parse_webhook(parts, endpoint);
    if (!why && !endpoint.ca_file.empty()) why = ca_file_problem(endpoint.ca_file);
    result = reason_or_nil(mrb, why, failed);
  }
  if (failed) mrb_exc_raise(mrb, result);
  return result;
}

// Raptor.channel_pattern_error(pattern) -> nil, or why it is neither a channel name nor a
// wildcard pattern (core/wildcard_index.h); the `channel` directive raises it at its line.
mrb_value channel_pattern_error(mrb_state* mrb, mrb_value) {
  mrb_value pattern;
  mrb_get_args(mrb, "S", &pattern);
  if (is_valid_channel_name(view(pattern)) || is_wildcard_pattern(view(pattern))) return mrb_nil_value();
  return mrb_str_new_lit(mrb,
                         "not a channel name nor a wildcard pattern: use up to 200 of A-Z a-z 0-9 _ - = @ , . ; "
                         "with `*` for one dot-separated segment and `**`, last, for the rest "
                         "(e.g. \"presence-privileged-gallery.*\")");
}

// Raptor.redis_error(url, prefix, node_id, node_timeout, startup_wait) -> nil, or why the cluster
// settings are refused (the `redis` directive raises it at its line); an empty prefix, node id,
// node timeout or start-up wait was not given. The same checks as --redis, --redis-prefix,
// --node-id, --node-timeout and --startup-wait (config/cluster_settings.h).
mrb_value redis_error(mrb_state* mrb, mrb_value) {
  mrb_value url, prefix, node_id, node_timeout, startup_wait;
  mrb_get_args(mrb, "SSSSS", &url, &prefix, &node_id, &node_timeout, &startup_wait);
  mrb_value result = mrb_nil_value();
  mrb_bool failed = false;
  {
    RedisAddress address;
    std::optional<std::string> why = parse_redis_url(view(url), address);
    if (!why && RSTRING_LEN(prefix) > 0) why = redis_prefix_error(view(prefix));
    if (!why && RSTRING_LEN(node_id) > 0) why = node_id_error(view(node_id));
    int seconds = 0;
    if (!why && RSTRING_LEN(node_timeout) > 0) why = parse_node_timeout(view(node_timeout), seconds);
    if (!why && RSTRING_LEN(startup_wait) > 0) why = parse_startup_wait(view(startup_wait), seconds);
    result = reason_or_nil(mrb, why, failed);
  }
  if (failed) mrb_exc_raise(mrb, result);
  return result;
}

// Raptor.tls_ciphers_error(list) -> nil, or why --tls-ciphers would refuse it
// (config/tls_settings.h); the `tls` directive raises it at its line.
mrb_value tls_ciphers_error(mrb_state* mrb, mrb_value) {
  mrb_value list;
  mrb_get_args(mrb, "S", &list);
  mrb_bool failed = false;
  mrb_value result = reason_or_nil(mrb, tls_ciphers_problem(std::string(view(list))), failed);
  if (failed) mrb_exc_raise(mrb, result);
  return result;
}

}  // namespace

void define_helpers(mrb_state* mrb) {
  signature::prepare_thread();  // OpenSSL's set-up now, not in the first hook's time budget
  RClass* raptor = mrb_define_module(mrb, "Raptor");
  mrb_define_module_function(mrb, raptor, "hmac_sha256", hmac_sha256, MRB_ARGS_REQ(2));
  mrb_define_module_function(mrb, raptor, "sha256", sha256, MRB_ARGS_REQ(1));
  mrb_define_module_function(mrb, raptor, "secure_compare", secure_compare, MRB_ARGS_REQ(2));
  mrb_define_module_function(mrb, raptor, "base64_encode", base64_encode, MRB_ARGS_REQ(1));
  mrb_define_module_function(mrb, raptor, "base64_decode", base64_decode, MRB_ARGS_REQ(1));
  mrb_define_module_function(mrb, raptor, "now", now, MRB_ARGS_NONE());
  mrb_define_module_function(mrb, raptor, "log", log_line, MRB_ARGS_REQ(1));
  mrb_define_module_function(mrb, raptor, "env", env, MRB_ARGS_ARG(1, 1));
  mrb_define_module_function(mrb, raptor, "webhook_error", webhook_error, MRB_ARGS_REQ(7));
  mrb_define_module_function(mrb, raptor, "channel_pattern_error", channel_pattern_error, MRB_ARGS_REQ(1));
  mrb_define_module_function(mrb, raptor, "redis_error", redis_error, MRB_ARGS_REQ(5));
  mrb_define_module_function(mrb, raptor, "tls_ciphers_error", tls_ciphers_error, MRB_ARGS_REQ(1));

  RClass* json_module = mrb_define_module(mrb, "JSON");
  mrb_define_class_under(mrb, json_module, "ParserError", E_ARGUMENT_ERROR);
  mrb_define_module_function(mrb, json_module, "parse", json_parse, MRB_ARGS_REQ(1));
  mrb_define_module_function(mrb, json_module, "generate", json_generate, MRB_ARGS_REQ(1));
}

}  // namespace raptor::script
