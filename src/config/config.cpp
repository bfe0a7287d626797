#include "config/config.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <thread>
#include <algorithm>

#include "common/name_resolver.h"
#include "config/safe_defaults.h"
#include "config/tls_files.h"
#include "config/webhook_spec.h"
#include "http/admin_access.h"

namespace raptor {

#ifndef RAPTOR_DEFAULT_CONFIG
#define RAPTOR_DEFAULT_CONFIG "/etc/raptor/raptor.rb"
#endif
const char* const kDefaultConfigFile = RAPTOR_DEFAULT_CONFIG;

namespace {

constexpr const char* kDefaultAppId = "app-id";
constexpr const char* kDefaultAppKey = "app-key";
constexpr const char* kDefaultAppSecret = "app-secret";
// Why a configuration file without apps is refused: raptor would serve the development app.
constexpr const char* kNoAppInFile =
    "defines no app: add one, e.g. app \"my-app\", key: \"my-key\", secret: env(\"RAPTOR_MY_APP_SECRET\")";
constexpr size_t kMaxSecretFileBytes = 64 * 1024;  // a secret is a line; a larger file is a wrong path

// What the option being applied expects, set by the parsers below when they refuse a value, so
// that the error names the form and range ("a whole number from 1 to 65535").
thread_local std::string expected;

bool parse_int(const std::string& s, long min, long max, long& out) {
  expected = "a whole number from " + std::to_string(min) + " to " + std::to_string(max);
  if (s.empty()) return false;
  char* end = nullptr;
  long v = std::strtol(s.c_str(), &end, 10);
  if (*end != '\0' || v < min || v > max) return false;
  out = v;
  return true;
}

bool parse_bool(const std::string& s, bool& out) {
  expected = "on or off (also true/false, yes/no, 1/0)";
  if (s == "1" || s == "true" || s == "yes" || s == "on") return out = true, true;
  if (s == "0" || s == "false" || s == "no" || s == "off") return out = false, true;
  return false;
}

// The secret in the file at `path`: its content without the line break(s) that end it. The
// error names the file, never what it holds.
std::optional<std::string> read_secret_file(const std::string& path, std::string& secret) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "cannot read " + path + ": " + std::strerror(errno);
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0 && text.size() < kMaxSecretFileBytes) text.append(buf, size_t(n));
  int read_errno = errno;
  close(fd);
  if (n < 0) return "cannot read " + path + ": " + std::strerror(read_errno);
  if (text.size() >= kMaxSecretFileBytes) return path + " is too large for a secret";
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  if (text.empty()) return path + " is empty";
  if (text.find_first_of("\r\n") != std::string::npos) return path + " holds more than one line";
  secret = std::move(text);
  return std::nullopt;
}

// A --trusted-proxy range (or each of RAPTOR_TRUSTED_PROXIES).
bool add_trusted_proxy(Config& c, App&, const std::string& text) {
  expected = "an IPv4 or IPv6 address or network, e.g. 127.0.0.1/32 or fd00::/8";
  auto range = parse_address_range(text);
  return range && (c.trusted_proxies.push_back(*range), true);
}

// A --webhook spec (or each of RAPTOR_WEBHOOKS) into the default app; `why` gets the reason it
// is refused.
bool add_webhook(App& app, const std::string& spec, std::string& why) {
  WebhookEndpoint endpoint;
  if (auto error = parse_webhook_spec(spec, endpoint)) return why = *error, false;
  if (!endpoint.ca_file.empty())
    if (auto error = ca_file_problem(endpoint.ca_file)) return why = *error, false;
  app.webhooks.push_back(std::move(endpoint));
  return true;
}

struct Option {
  const char* flag;
  const char* env;
  bool takes_value;
  const char* help;
  // Applies the value; false when it is invalid.
  std::function<bool(Config&, App& default_app, const std::string&)> apply;
};

// Boolean settings of the default app read from the environment ("true"/"false", "1"/"0", …);
// their flags are in options().
struct AppSwitch {
  const char* env;
  bool App::*member;
};
constexpr AppSwitch kAppSwitches[] = {
    {"RAPTOR_CLIENT_EVENTS", &App::client_events},
    {"RAPTOR_SUBSCRIPTION_COUNT", &App::subscription_count_events},
};

// `why` receives the reason an option refused its value, where it has more to say than "invalid".
std::vector<Option> options(std::string& why) {
  auto port_of = [](Config& c, App&, const std::string& v) {
    long n;
    return parse_int(v, 1, 65535, n) ? (c.port = int(n), true) : false;
  };
  // An int setting of the default app, in [min, max].
  auto app_seconds = [](int App::*member, long min, long max) {
    return [=](Config&, App& a, const std::string& v) {
      long n;
      return parse_int(v, min, max, n) ? (a.*member = int(n), true) : false;
    };
  };
  // A webhook setting in milliseconds (or `scale` ms), in [min, max].
  auto webhook_ms = [](int64_t WebhookSettings::*member, long min, long max, int64_t scale = 1) {
    return [=](Config& c, App&, const std::string& v) {
      long n;
      return parse_int(v, min, max, n) ? (c.webhooks.*member = n * scale, true) : false;
    };
  };
  // An HTTP timeout in milliseconds, from 100 ms to an hour.
  auto http_ms = [](int Config::HttpTimeouts::*member) {
    return [=](Config& c, App&, const std::string& v) {
      long n;
      return parse_int(v, 100, 3600000, n) ? (c.http_timeouts.*member = int(n), true) : false;
    };
  };
  return {
      // Read before everything else (see config_file_of); flags and variables override the file.
      {"--config", "RAPTOR_CONFIG", true, "Ruby configuration file raptor.rb (default: " RAPTOR_DEFAULT_CONFIG " if present)",
       [](Config&, App&, const std::string& v) { return !v.empty(); }},
      {"--host", "RAPTOR_HOST", true, "address to listen on (default 127.0.0.1)",
       [](Config& c, App&, const std::string& v) { return !v.empty() && (c.host = v, true); }},
      {"--port", "RAPTOR_PORT", true, "port for WebSocket and HTTP (default 6001)", port_of},
      {"--app-id", "RAPTOR_APP_ID", true, "id of the default app (default app-id; with --app-key and a secret)",
       [](Config&, App& a, const std::string& v) { return !v.empty() && (a.id = v, true); }},
      {"--app-key", "RAPTOR_APP_KEY", true, "key of the default app (default app-key; with --app-id and a secret)",
       [](Config&, App& a, const std::string& v) { return !v.empty() && (a.key = v, true); }},
      {"--app-secret", "RAPTOR_APP_SECRET", true,
       "secret of the default app (default app-secret); visible in the process list: prefer --app-secret-file",
       [](Config&, App& a, const std::string& v) { return !v.empty() && (a.secret = v, true); }},
      {"--app-secret-file", "RAPTOR_APP_SECRET_FILE", true,
       "file holding the default app's secret (e.g. ${CREDENTIALS_DIRECTORY}/raptor-secret; docs/security.md)",
       [&why](Config&, App& a, const std::string& v) {
         if (auto error = read_secret_file(v, a.secret)) return why = *error, false;
         return true;
       }},
      {"--app", nullptr, true,
       "ID:KEY:SECRET of one more app (repeatable; env RAPTOR_APPS, comma-separated; without --app-id "
       "the first is the default app)",
       [](Config& c, App&, const std::string& v) {
         App app;
         return parse_app(v, app) && (c.apps.push_back(app), true);
       }},
      {"--no-client-events", nullptr, false, "refuse client events on the default app (env RAPTOR_CLIENT_EVENTS=false)",
       [](Config&, App& a, const std::string&) { return a.client_events = false, true; }},
      {"--user-authentication-timeout", "RAPTOR_USER_AUTHENTICATION_TIMEOUT", true,
       "seconds to sign in or join a private/presence channel, else close 4009 (default 0: off)",
       app_seconds(&App::user_authentication_timeout_s, 0, 3600)},
      {"--cache-ttl", "RAPTOR_CACHE_TTL", true,
       "seconds a cache channel of the default app keeps its last event (default 1800)",
       app_seconds(&App::cache_ttl_s, 1, 86400)},
      {"--subscription-count", nullptr, false,
       "send pusher:subscription_count events on the default app (env RAPTOR_SUBSCRIPTION_COUNT=true)",
       [](Config&, App& a, const std::string&) { return a.subscription_count_events = true, true; }},
      {"--tls-cert", "RAPTOR_TLS_CERT", true, "PEM certificate: serve wss:// and https://",
       [](Config& c, App&, const std::string& v) { return !v.empty() && (c.tls_cert = v, true); }},
      {"--tls-key", "RAPTOR_TLS_KEY", true, "PEM private key for --tls-cert",
       [](Config& c, App&, const std::string& v) { return !v.empty() && (c.tls_key = v, true); }},
      {"--tls-min-version", "RAPTOR_TLS_MIN_VERSION", true,
       "1.2 (default) or 1.3: the oldest TLS version a client may use; older ones are refused in the handshake",
       [](Config& c, App&, const std::string& v) {
         expected = "1.2 or 1.3";
         auto version = tls_version_named(v);
         return version && (c.tls_min_version = *version, true);
       }},
      {"--tls-ciphers", "RAPTOR_TLS_CIPHERS", true,
       "':'-separated OpenSSL names of the ciphers offered with TLS 1.2 (default: ECDHE with AES-GCM or "
       "ChaCha20-Poly1305; docs/security.md#tls)",
       [&why](Config& c, App&, const std::string& v) {
         if (auto error = tls_ciphers_problem(v)) return why = *error, false;
         return c.tls_ciphers = v, true;
       }},
      {"--activity-timeout", "RAPTOR_ACTIVITY_TIMEOUT", true,
       "seconds of client silence before the server pings it (default 120)",
       [](Config& c, App&, const std::string& v) {
         long n;
         return parse_int(v, 1, 3600, n) ? (c.limits.activity_timeout_s = int(n), true) : false;
       }},
      {"--pong-timeout", "RAPTOR_PONG_TIMEOUT", true, "seconds to wait for a pong before closing with 4201 (default 30)",
       [](Config& c, App&, const std::string& v) {
         long n;
         return parse_int(v, 1, 3600, n) ? (c.limits.pong_timeout_s = int(n), true) : false;
       }},
      {"--workers", "RAPTOR_WORKERS", true, "event-loop threads (default: one per CPU core)",
       [](Config& c, App&, const std::string& v) {
         long n;
         return parse_int(v, 1, 64, n) ? (c.workers = size_t(n), true) : false;
       }},
      {"--event-loop", "RAPTOR_EVENT_LOOP", true, "epoll (default) or poll: how workers wait for sockets",
       [](Config& c, App&, const std::string& v) {
         expected = "epoll or poll";
         if (v == "epoll") return c.event_loop = Config::EventLoop::Epoll, true;
         if (v == "poll") return c.event_loop = Config::EventLoop::Poll, true;
         return false;
       }},
      {"--http-head-timeout-ms", "RAPTOR_HTTP_HEAD_TIMEOUT_MS", true,
       "ms an HTTP request's line and header fields may take to arrive, else 408 (default 10000)",
       http_ms(&Config::HttpTimeouts::head_ms)},
      {"--http-body-timeout-ms", "RAPTOR_HTTP_BODY_TIMEOUT_MS", true,
       "ms an HTTP request's body may take to arrive after its fields, else 408 (default 30000)",
       http_ms(&Config::HttpTimeouts::body_ms)},
      {"--http-idle-timeout-ms", "RAPTOR_HTTP_IDLE_TIMEOUT_MS", true,
       "ms a kept-alive HTTP connection may wait for its next request (default 60000)",
       http_ms(&Config::HttpTimeouts::idle_ms)},
      {"--compression", "RAPTOR_COMPRESSION", true,
       "on or off (default): offer permessage-deflate to WebSocket clients (costs CPU, see docs)",
       [](Config& c, App&, const std::string& v) { return parse_bool(v, c.compression); }},
      {"--trusted-proxy", nullptr, true,
       "ADDRESS[/BITS] of a reverse proxy whose forwarded header gives the client's address (repeatable; "
       "env RAPTOR_TRUSTED_PROXIES, comma-separated; docs/reverse-proxy.md)",
       add_trusted_proxy},
      {"--forwarded-header", "RAPTOR_FORWARDED_HEADER", true,
       "x-forwarded-for (default) or forwarded (RFC 7239): the header trusted proxies name the client in",
       [](Config& c, App&, const std::string& v) {
         expected = "x-forwarded-for or forwarded";
         auto header = forwarded_header_named(v);
         return header && (c.forwarded_header = *header, true);
       }},
      {"--proxy-protocol", "RAPTOR_PROXY_PROTOCOL", true,
       "on or off (default): every connection begins with a PROXY protocol header (v1 or v2) naming the client, "
       "believed from a --trusted-proxy only",
       [](Config& c, App&, const std::string& v) { return parse_bool(v, c.proxy_protocol); }},
      {"--webhook", nullptr, true,
       "URL[;events=T,T][;prefix=P][;suffix=S][;header=N:V][;ca=FILE][;verify_tls=off]: a webhook receiver of the "
       "default app "
       "(repeatable; env RAPTOR_WEBHOOKS, |-separated; docs/webhooks.md)",
       [&why](Config&, App& a, const std::string& v) { return add_webhook(a, v, why); }},
      {"--webhook-batch-ms", "RAPTOR_WEBHOOK_BATCH_MS", true, "ms a webhook batch collects events (default 50)",
       webhook_ms(&WebhookSettings::batch_ms, 0, 10000)},
      {"--webhook-timeout-ms", "RAPTOR_WEBHOOK_TIMEOUT_MS", true, "ms a receiver has to answer a POST (default 4000)",
       webhook_ms(&WebhookSettings::timeout_ms, 100, 120000)},
      {"--webhook-retry-base-ms", "RAPTOR_WEBHOOK_RETRY_BASE_MS", true,
       "ms before the first retry of a failed POST, doubling after (default 1000)",
       webhook_ms(&WebhookSettings::retry_base_ms, 10, 600000)},
      {"--webhook-departure-delay-ms", "RAPTOR_WEBHOOK_DEPARTURE_DELAY_MS", true,
       "ms channel_vacated / member_removed wait for the channel or member to come back (default 3000)",
       webhook_ms(&WebhookSettings::departure_delay_ms, 0, 60000)},
      {"--webhook-retry-max-ms", "RAPTOR_WEBHOOK_RETRY_MAX_MS", true, "longest wait between retries (default 60000)",
       webhook_ms(&WebhookSettings::retry_max_ms, 10, 3600000)},
      {"--webhook-retry-for", "RAPTOR_WEBHOOK_RETRY_FOR", true,
       "seconds webhook events are retried before they are dropped (default 300)",
       webhook_ms(&WebhookSettings::retry_for_ms, 1, 86400, 1000)},
      {"--webhook-queue-limit", "RAPTOR_WEBHOOK_QUEUE_LIMIT", true,
       "webhook events waiting per receiver before new ones are dropped (default 10000)",
       [](Config& c, App&, const std::string& v) {
         long n;
         return parse_int(v, 1, 10000000, n) ? (c.webhooks.queue_limit = size_t(n), true) : false;
       }},
      {"--webhook-stream-max-entries", "RAPTOR_WEBHOOK_STREAM_MAX_ENTRIES", true,
       "with --redis: the webhook stream in Redis is trimmed to about this many entries (default 100000)",
       [](Config& c, App&, const std::string& v) {
         long n;
         return parse_int(v, 100, 100000000, n) ? (c.webhooks.stream_max_entries = size_t(n), true) : false;
       }},
      {"--webhook-claim-ms", "RAPTOR_WEBHOOK_CLAIM_MS", true,
       "with --redis: ms a node's pending webhooks wait before another node takes them over (default 30000)",
       webhook_ms(&WebhookSettings::claim_after_ms, 1000, 3600000)},
      {"--redis", "RAPTOR_REDIS_URL", true,
       "redis://[[user]:password@]host[:port][/db]: run as one node of a cluster sharing this Redis (docs/cluster.md)",
       [&why](Config& c, App&, const std::string& v) {
         RedisAddress address;
         if (auto error = parse_redis_url(v, address)) return why = *error, false;
         return c.cluster.redis = std::move(address), true;
       }},
      {"--redis-prefix", "RAPTOR_REDIS_PREFIX", true,
       "prefix of this deployment's Redis keys and channels (default raptor:)",
       [&why](Config& c, App&, const std::string& v) {
         if (auto error = redis_prefix_error(v)) return why = *error, false;
         return c.cluster.prefix = v, true;
       }},
      {"--node-id", "RAPTOR_NODE_ID", true, "this node's name in the cluster (default: host name and a random suffix)",
       [&why](Config& c, App&, const std::string& v) {
         if (auto error = node_id_error(v)) return why = *error, false;
         return c.cluster.node_id = v, true;
       }},
      {"--admin-token", "RAPTOR_ADMIN_TOKEN", true,
       "token that opens /metrics and the dashboard (Authorization: Bearer <token>; 16+ characters; "
       "default: none, they are off)",
       [&why](Config& c, App&, const std::string& v) {
         if (v.size() < http::kMinAdminTokenLength) return why = "at least 16 characters", false;
         return c.admin_token = v, true;
       }},
      {"--drain-seconds", "RAPTOR_DRAIN_SECONDS", true,
       "on SIGTERM, close WebSocket clients with 4200 in batches over this many seconds, then exit "
       "(default 10; 0: all at once; docs/cluster.md#graceful-shutdown)",
       [&why](Config& c, App&, const std::string& v) {
         long n;
         if (!parse_int(v, 0, 3600, n)) return why = "a whole number of seconds from 0 to 3600", false;
         return c.drain_seconds = int(n), true;
       }},
      {"--node-timeout", "RAPTOR_NODE_TIMEOUT", true,
       "seconds a node's lease in Redis lasts; a node silent that long is cleaned up (default 5)",
       [&why](Config& c, App&, const std::string& v) {
         if (auto error = parse_node_timeout(v, c.cluster.node_timeout_s)) return why = *error, false;
         return true;
       }},
      {"--startup-wait", "RAPTOR_STARTUP_WAIT", true,
       "seconds a node that cannot reach Redis at start-up holds its traffic before serving as a node "
       "alone (default 10; 0: at once; docs/cluster.md#readiness)",
       [&why](Config& c, App&, const std::string& v) {
         if (auto error = parse_startup_wait(v, c.cluster.startup_wait_s)) return why = *error, false;
         return true;
       }},
      {"--log-level", "RAPTOR_LOG_LEVEL", true,
       "error, warn, info (default) or debug: the least severe log lines written",
       [](Config& c, App&, const std::string& v) {
         expected = "error, warn, info or debug";
         auto level = log::level_named(v);
         return level && (c.log_level = *level, true);
       }},
      {"--max-send-queue", "RAPTOR_MAX_SEND_QUEUE", true,
       "bytes a client may have waiting before it is closed with 4100 (default 1048576)",
       [](Config& c, App&, const std::string& v) {
         long n;
         return parse_int(v, 1024, 1L << 30, n) ? (c.limits.max_send_queue_bytes = size_t(n), true) : false;
       }},
      {"--max-send-queue-total", "RAPTOR_MAX_SEND_QUEUE_TOTAL", true,
       "bytes all clients together may have waiting; past it the slowest are closed with 4100 "
       "(default 268435456; 0: no ceiling)",
       [](Config& c, App&, const std::string& v) {
         long n;
         bool ok = parse_int(v, 0, 1L << 40, n) && (n == 0 || n >= 65536);
         if (!ok) expected = "0 (no ceiling) or a whole number of bytes from 65536 to " + std::to_string(1L << 40);
         if (!ok) return false;
         return c.limits.max_send_queue_total_bytes = size_t(n), true;
       }},
      {"--max-subscriptions", "RAPTOR_MAX_SUBSCRIPTIONS", true,
       "channels and patterns one connection may hold; more are refused with 4305 (default 1000)",
       [](Config& c, App&, const std::string& v) {
         long n;
         return parse_int(v, 1, 1000000, n) ? (c.limits.max_subscriptions = size_t(n), true) : false;
       }},
      {"--max-connections-per-app", "RAPTOR_MAX_CONNECTIONS_PER_APP", true,
       "connections of one app open at once on this node, for apps without max_connections; more are "
       "refused with 4004 (default 0: no limit)",
       [](Config& c, App&, const std::string& v) {
         long n;
         return parse_int(v, 0, 10000000, n) ? (c.limits.max_connections_per_app = size_t(n), true) : false;
       }},
      {"--max-connections-per-ip", "RAPTOR_MAX_CONNECTIONS_PER_IP", true,
       "WebSocket connections one client address may hold open at once (an IPv6 /64; behind "
       "--trusted-proxy the client's); more are refused with 4101 (default 1000; 0: no limit)",
       [](Config& c, App&, const std::string& v) {
         long n;
         return parse_int(v, 0, 10000000, n) ? (c.limits.per_address.max_connections = size_t(n), true) : false;
       }},
      {"--connects-per-second-per-ip", "RAPTOR_CONNECTS_PER_SECOND_PER_IP", true,
       "WebSocket connects a second from one client address on average, up to 5 seconds' worth at "
       "once; more are refused with 4102 (default 20; 0: no limit)",
       [](Config& c, App&, const std::string& v) {
         long n;
         return parse_int(v, 0, 1000000, n) ? (c.limits.per_address.connects_per_second = uint32_t(n), true) : false;
       }},
      {"--api-events-per-second", "RAPTOR_API_EVENTS_PER_SECOND", true,
       "events the HTTP API may publish a second per app, for apps without api_events_per_second; "
       "more are answered 429 with Retry-After (default 0: no limit)",
       [](Config& c, App&, const std::string& v) {
         long n;
         return parse_int(v, 0, 10000000, n) ? (c.limits.api_events_per_second = uint32_t(n), true) : false;
       }},
      {"--log-format", "RAPTOR_LOG_FORMAT", true,
       "text (default; journal-style under systemd) or json: one {time, level, message} object a line",
       [](Config& c, App&, const std::string& v) {
         if (v == "text") return c.log_format = log::Format::kText, true;
         if (v == "json") return c.log_format = log::Format::kJson, true;
         return false;
       }},
      {"--subscriptions-per-second", "RAPTOR_SUBSCRIPTIONS_PER_SECOND", true,
       "pusher:subscribe messages a connection may send a second; more are refused with 4301 (default 100)",
       [](Config& c, App&, const std::string& v) {
         long n;
         return parse_int(v, 1, 1000000, n) ? (c.limits.subscriptions_per_second = uint32_t(n), true) : false;
       }},
  };
}

// The options that set the default app's credentials, and which of them each sets: a default
// app made from the development app needs all three, or its public secret would stay in use.
enum CredentialPart : unsigned { kIdGiven = 1, kKeyGiven = 2, kSecretGiven = 4, kAllGiven = 7 };
constexpr struct {
  const char* flag;
  CredentialPart part;
} kCredentialOptions[] = {
    {"--app-id", kIdGiven},
    {"--app-key", kKeyGiven},
    {"--app-secret", kSecretGiven},
    {"--app-secret-file", kSecretGiven},
};

unsigned credential_part(const char* flag) {
  for (const auto& o : kCredentialOptions)
    if (std::strcmp(o.flag, flag) == 0) return o.part;
  return 0;
}

// Values of options that carry credentials (webhook specs may hold tokens in their URL or
// headers) are not echoed: error output may end up in logs.
std::string flag_error(const std::string& flag, const std::string& value, std::string why = {}) {
  if (why.empty()) why = expected.empty() ? "expected a non-empty value" : "expected " + expected;
  // --app-secret-file and RAPTOR_APP_SECRET_FILE name a file: the path is no secret.
  std::string_view tail = std::string_view(flag).substr(flag.size() < 5 ? 0 : flag.size() - 5);
  bool names_file = tail == "-file" || tail == "_FILE";
  bool names_secret = flag.find("SECRET") != std::string::npos || flag.find("secret") != std::string::npos ||
                      flag.find("TOKEN") != std::string::npos || flag.find("token") != std::string::npos;
  bool secret = (names_secret && !names_file) ||
                flag == "--app" || flag == "RAPTOR_APPS" || flag == "--webhook" || flag == "RAPTOR_WEBHOOKS" ||
                flag == "--redis" || flag == "RAPTOR_REDIS_URL";  // may hold a password
  return "raptor: invalid value " + (secret ? std::string("(not shown)") : "'" + value + "'") + " for " + flag +
         (why.empty() ? "" : ": " + why) + " (see raptor --help)\n";
}

// The configuration file to read, if any: --config, else RAPTOR_CONFIG, else the default when it
// exists. Empty when there is none.
std::string config_file_of(int argc, const char* const* argv, EnvLookup env) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--config" && i + 1 < argc) return argv[i + 1];
    if (arg.rfind("--config=", 0) == 0) return arg.substr(9);
  }
  if (const char* v = env("RAPTOR_CONFIG")) return v;
  return access(kDefaultConfigFile, F_OK) == 0 ? kDefaultConfigFile : "";
}

// Whether the environment gives the default app (as /etc/default/raptor does for the packaged
// raptor.rb, which defines no app of its own).
// The first host name of the file's Redis and webhook receivers that does not resolve here: the
// server would keep retrying it, so check says so at once (docs/cluster.md, "Host names").
std::optional<std::string> unresolved_host(const Config& c) {
  auto problem = [](const std::string& what, const std::string& host) -> std::optional<std::string> {
    std::vector<std::string> addresses;
    if (NameResolver::is_address(host)) return std::nullopt;
    if (auto why = NameResolver::resolve_now(host, addresses)) return what + ": " + NameResolver::failure(host, *why);
    return std::nullopt;
  };
  if (c.cluster.redis)
    if (auto why = problem("redis", c.cluster.redis->host)) return why;
  for (const App& app : c.apps)
    for (const WebhookEndpoint& w : app.webhooks)
      if (auto why = problem("app " + app.id + ": webhook " + w.origin(), w.host)) return why;
  return std::nullopt;
}

bool app_in_environment(EnvLookup env) {
  return (env("RAPTOR_APP_ID") && env("RAPTOR_APP_KEY") && (env("RAPTOR_APP_SECRET") || env("RAPTOR_APP_SECRET_FILE"))) ||
         env("RAPTOR_APPS");
}

// `raptor check [--no-env] FILE`: 0 and a summary when the file is a valid configuration that is
// safe to serve, else 2 and one line, "file:line: message" or "file: message". With --no-env the
// file's env() sees no variable (a required one reads as a stand-in), and an app it does not
// define is taken to come from the environment.
ParseResult check_file(int argc, const char* const* argv, EnvLookup env, const ConfigFileReader& read_file) {
  ParseResult r;
  bool no_env = argc >= 3 && std::string(argv[2]) == "--no-env";
  if (argc != 3 + int(no_env) || !read_file) {
    r.exit_code = 2;
    r.output = "usage: raptor check [--no-env] FILE\n";
    return r;
  }
  const std::string file = argv[argc - 1];
  Config c;
  c.environment_stand_ins = no_env;
  std::string message;
  auto fail = [&r](std::string line) {
    r.exit_code = 2;
    r.output = std::move(line) + "\n";
    return r;
  };
  if (!read_file(file, c, message)) return fail(message);
  bool app_from_env = c.apps.empty();
  if (app_from_env) {
    if (!no_env && !app_in_environment(env))
      return fail(file + ": " + kNoAppInFile +
                  " (or set RAPTOR_APP_ID, RAPTOR_APP_KEY and RAPTOR_APP_SECRET[_FILE]; check with --no-env to assume "
                  "them)");
    c.default_credentials = false;
  }
  if (auto why = unsafe_credentials(c, file)) return fail(*why);
  if (!c.tls_cert.empty())
    if (auto why = tls_files_problem(c.tls_cert, c.tls_key)) return fail(file + ": " + *why);
  if (auto why = unresolved_host(c)) return fail(file + ": " + *why);
  std::ostringstream out;
  out << file << ": OK: listens on " << (c.tls_cert.empty() ? "ws://" : "wss://") << c.host << ":" << c.port << "; ";
  if (app_from_env)
    out << "0 apps: the default app comes from RAPTOR_APP_ID, RAPTOR_APP_KEY and RAPTOR_APP_SECRET[_FILE]";
  else
    out << c.apps.size() << (c.apps.size() == 1 ? " app: " : " apps: ") << message;
  out << "\n";
  r.output = out.str();
  return r;
}

}  // namespace

bool parse_app(const std::string& spec, App& out) {
  expected = "ID:KEY:SECRET, three non-empty parts separated by ':'";
  size_t a = spec.find(':'), b = spec.find(':', a == std::string::npos ? a : a + 1);
  if (a == std::string::npos || b == std::string::npos) return false;
  out.id = spec.substr(0, a);
  out.key = spec.substr(a + 1, b - a - 1);
  out.secret = spec.substr(b + 1);
  return !out.id.empty() && !out.key.empty() && !out.secret.empty();
}

std::string usage() {
  std::ostringstream out;
  out << "Usage: raptor [options]\n"
         "       raptor check [--no-env] FILE\n"
         "                                validate a configuration file, then exit (2 on errors);\n"
         "                                --no-env: as if no RAPTOR_* variable were set\n"
         "       raptor COMMAND ...       talk to a running server, make credentials (Commands, below)\n\n"
         "Raptor: a self-hosted realtime server speaking the Pusher Channels protocol.\n"
         "With no options it serves ws://127.0.0.1:6001 with the development app\n"
         "app-id / app-key / app-secret, which is not served once any app is configured,\n"
         "and never on an address other than loopback.\n\n"
         "Options (each also read from the environment variable shown):\n";
  std::string why;
  for (const auto& o : options(why)) {
    std::string lhs = std::string(o.flag) + (o.takes_value ? " VALUE" : "");
    out << "  " << lhs << std::string(lhs.size() < 24 ? 24 - lhs.size() : 1, ' ') << o.help;
    if (o.env) out << " [" << o.env << "]";
    out << "\n";
  }
  out << "  --help                  show this help\n  --version               print the version\n";
  return out.str();
}

ParseResult parse_command_line(int argc, const char* const* argv, EnvLookup env, const ConfigFileReader& read_file) {
  if (argc >= 2 && std::string(argv[1]) == "check") return check_file(argc, argv, env, read_file);
  ParseResult r;
  Config& c = r.config;
  App default_app{kDefaultAppId, kDefaultAppKey, kDefaultAppSecret};
  c.workers = std::max(1u, std::min(64u, std::thread::hardware_concurrency()));
  std::string why;
  auto opts = options(why);

  auto fail = [&r](std::string message) {
    r.run = false;
    r.exit_code = 2;
    r.output = std::move(message);
    return r;
  };

  // The file first; its first app is the one --app-id/--app-key/--app-secret then change.
  bool file_app = false;
  std::string file = config_file_of(argc, argv, env);
  if (!file.empty()) {
    std::string message;
    if (!read_file) return fail("raptor: cannot read " + file + ": no configuration file support\n");
    if (!read_file(file, c, message)) return fail(message + "\n");
    if (!c.apps.empty()) {
      default_app = c.apps.front();
      c.apps.erase(c.apps.begin());
      file_app = true;
    }
  }

  unsigned credentials_given = 0;  // CredentialParts
  for (const auto& o : opts) {
    if (!o.env) continue;
    if (const char* v = env(o.env)) {
      expected.clear();
      if (!o.apply(c, default_app, v)) return fail(flag_error(o.env, v, why));
      credentials_given |= credential_part(o.flag);
    }
  }
  for (const auto& s : kAppSwitches) {
    if (const char* v = env(s.env))
      if (!parse_bool(v, default_app.*s.member)) return fail(flag_error(s.env, v));
  }
  if (const char* v = env("RAPTOR_WEBHOOKS")) {
    std::stringstream list(v);
    std::string spec;
    while (std::getline(list, spec, '|'))
      if (!add_webhook(default_app, spec, why)) return fail(flag_error("RAPTOR_WEBHOOKS", spec, why));
  }
  if (const char* v = env("RAPTOR_TRUSTED_PROXIES")) {
    std::stringstream list(v);
    std::string range;
    while (std::getline(list, range, ','))
      if (!add_trusted_proxy(c, default_app, range)) return fail(flag_error("RAPTOR_TRUSTED_PROXIES", range));
  }
  if (const char* v = env("RAPTOR_APPS")) {
    std::stringstream list(v);
    std::string spec;
    while (std::getline(list, spec, ',')) {
      App app;
      if (!parse_app(spec, app)) return fail(flag_error("RAPTOR_APPS", spec));
      c.apps.push_back(app);
    }
  }

  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") return r.help = true, r.output = usage(), r;
    if (arg == "--version") return r.output = std::string("raptor ") + RAPTOR_VERSION + "\n", r;
    std::string value;
    size_t eq = arg.find('=');
    if (arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg.resize(eq);
    }
    const Option* opt = nullptr;
    for (const auto& o : opts)
      if (arg == o.flag) opt = &o;
    if (!opt) return fail("raptor: unknown option '" + arg + "' (see raptor --help)\n");
    if (!opt->takes_value && eq != std::string::npos) return fail("raptor: " + arg + " takes no value\n");
    if (opt->takes_value && eq == std::string::npos) {
      if (i + 1 >= argc) return fail("raptor: " + arg + " needs a value (see raptor --help)\n");
      value = argv[++i];
    }
    expected.clear();
    if (!opt->apply(c, default_app, value)) return fail(flag_error(arg, value, why));
    credentials_given |= credential_part(opt->flag);
  }

  if (c.tls_cert.empty() != c.tls_key.empty()) return fail("raptor: --tls-cert and --tls-key go together\n");
  if (c.proxy_protocol && c.trusted_proxies.empty())
    return fail("raptor: --proxy-protocol needs --trusted-proxy (or trusted_proxies in raptor.rb): the load "
                "balancers whose PROXY header is believed\n");
  if (c.cluster.redis && c.cluster.node_id.empty()) c.cluster.node_id = generate_node_id();
  if (!file_app && credentials_given != 0 && credentials_given != kAllGiven)
    return fail(
        "raptor: the default app needs all three of --app-id, --app-key and --app-secret (or --app-secret-file; "
        "RAPTOR_APP_ID, RAPTOR_APP_KEY, RAPTOR_APP_SECRET[_FILE]): with only some, the development app's public "
        "credentials would stay in use\n");
  c.default_credentials = !file_app && credentials_given == 0 && c.apps.empty();
  if (!file.empty() && c.default_credentials)
    return fail(file + ": " + kNoAppInFile + " (or give the app with --app-id, --app-key and --app-secret-file, or "
                "RAPTOR_APP_ID, RAPTOR_APP_KEY and RAPTOR_APP_SECRET[_FILE])\n");
  if (!file_app && credentials_given == 0 && !c.apps.empty()) {
    // The development app is never served beside real apps: the first of them takes its place
    // as the default app, with the default app's settings.
    default_app.id = c.apps.front().id;
    default_app.key = c.apps.front().key;
    default_app.secret = c.apps.front().secret;
    c.apps.erase(c.apps.begin());
  }
  c.apps.insert(c.apps.begin(), default_app);
  for (size_t i = 0; i < c.apps.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (c.apps[i].id == c.apps[j].id || c.apps[i].key == c.apps[j].key)
        return fail("raptor: two apps share the id or key '" + c.apps[i].id + "'\n");
  if (auto why = unsafe_credentials(c, file_app ? file : "the command line"))
    return fail("raptor: " + *why + "\n");
  r.run = true;
  return r;
}

}  // namespace raptor
