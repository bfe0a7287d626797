// Server configuration: what to listen on, TLS, limits and the apps. Filled from the embedded
// defaults, then the Ruby config file (raptor.rb, read by script/), then environment variables
// (RAPTOR_*), then command-line flags, each overriding the last.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/client_address.h"
#include "common/log.h"
#include "config/cluster_settings.h"
#include "config/tls_settings.h"
#include "core/app.h"
#include "core/engine.h"
#include "webhooks/webhook_settings.h"

namespace raptor {

struct Config {
  std::string host = "127.0.0.1";
  int port = 6001;
  std::string tls_cert;
  std::string tls_key;
  // With TLS: the oldest version a client may speak and the TLS 1.2 ciphers offered
  // (config/tls_settings.h). A reload changes them, and reads the certificate and key again.
  TlsVersion tls_min_version = TlsVersion::kTls12;
  std::string tls_ciphers = kDefaultTlsCiphers;
  size_t workers = 1;  // event-loop threads; the command line defaults it to the number of cores
  // How each worker's loop (libev) waits for its sockets: epoll costs the same per wake-up at any
  // number of connections; poll() walks them all.
  enum class EventLoop { Epoll, Poll } event_loop = EventLoop::Epoll;
  // HTTP connections (docs/protocol.md#http): a request's line and fields must arrive within
  // head, its body within body of them, and a kept-alive connection is closed after idle.
  struct HttpTimeouts {
    int head_ms = 10000;
    int body_ms = 30000;
    int idle_ms = 60000;
  } http_timeouts;
  // permessage-deflate for clients that ask: off by default, since every subscriber then
  // compresses every frame on its own (docs/performance.md has the cost).
  bool compression = false;
  // Reverse proxies whose forwarded header names the client (--trusted-proxy; docs/reverse-proxy.md):
  // the address hooks see as remote_address and the logs show. Empty: the TCP peer, whatever the
  // header says.
  std::vector<AddressRange> trusted_proxies;
  ForwardedHeader forwarded_header = ForwardedHeader::XForwardedFor;  // --forwarded-header
  // Every connection begins with a PROXY protocol header (--proxy-protocol; a TCP load balancer's
  // way of naming the client), believed from trusted proxies only (docs/reverse-proxy.md#proxy-protocol).
  bool proxy_protocol = false;
  // SIGTERM: seconds over which the WebSocket clients are closed with 4200, in batches, before
  // the process exits (0: all at once). Read when the signal comes, so a reload changes it.
  int drain_seconds = 10;
  std::string admin_token;  // empty: /metrics and the dashboard are off (http/admin_access.h)
  EngineLimits limits;
  size_t max_message_bytes = 64 * 1024;  // incoming WebSocket message; larger closes with 1009
  std::vector<App> apps;
  WebhookSettings webhooks;  // batching, retries and bounds of every app's webhooks
  bool default_credentials = true;  // the embedded development app is in use
  ClusterSettings cluster;          // Redis, key prefix, node id (docs/cluster.md)
  log::Level log_level = log::Level::kInfo;  // the least severe lines written
  log::Format log_format = log::Format::kText;  // --log-format: journal-style text or JSON lines

  // --- the Ruby configuration file and its hooks ---
  std::string config_file;       // empty: none
  // `raptor check --no-env`: env() in the file sees no RAPTOR_* variable, and one it needs
  // without a default reads as a stand-in value instead of an error.
  bool environment_stand_ins = false;
  int hook_time_budget_ms = 50;  // per hook call
  size_t script_memory_mb = 64;  // per worker's Ruby VM
  // One per worker when the file defines hooks (worker i uses policies[i]), else empty.
  std::vector<std::shared_ptr<Policy>> policies;
};

// Reads a config file into `config`: false with "file:line: message" in `message`, true with
// a description of the file's hooks in `message`. script::read_config_file is the real one.
using ConfigFileReader = std::function<bool(const std::string& path, Config& config, std::string& message)>;

// Outcome of reading the command line: run, or exit with `exit_code` after printing `output`.
struct ParseResult {
  bool run = false;
  int exit_code = 0;
  std::string output;  // text for stdout (help, version) or stderr (errors)
  bool help = false;   // output is usage(), to which the caller may add its own sections
  Config config;
};

// `env` is a lookup for environment variables (nullptr when unset), so tests need no real env.
using EnvLookup = const char* (*)(const char*);
// `raptor [options]` or `raptor check FILE`. The config file comes from --config, RAPTOR_CONFIG or
// kDefaultConfigFile when that exists, and is read with `read_file`.
ParseResult parse_command_line(int argc, const char* const* argv, EnvLookup env, const ConfigFileReader& read_file = {});

// Where an installed raptor looks for its configuration (under the install prefix's sysconfdir).
extern const char* const kDefaultConfigFile;

std::string usage();

// "ID:KEY:SECRET", the form of --app and RAPTOR_APPS (and of `raptor keygen`), into `out`.
bool parse_app(const std::string& spec, App& out);

}  // namespace raptor
