// Server configuration: what to listen on, TLS, limits and the apps. Filled from the embedded
// default, then environment variables (RAPTOR_*), then command-line flags, each overriding the
// last; the Ruby config file will fill the same struct.
#pragma once
#include <string>
#include <vector>

#include "core/app.h"
#include "core/engine.h"
#include "webhooks/webhook_settings.h"

namespace raptor {

struct Config {
  std::string host = "127.0.0.1";
  int port = 6001;
  std::string tls_cert;
  std::string tls_key;
  size_t workers = 1;  // event-loop threads; the command line defaults it to the number of cores
  // How each worker waits for its sockets: epoll (through libev) costs the same per wake-up at any
  // number of connections; poll() walks them all, but is libwebsockets' own loop.
  enum class EventLoop { Epoll, Poll } event_loop = EventLoop::Epoll;
  EngineLimits limits;
  size_t max_message_bytes = 64 * 1024;  // incoming WebSocket message; larger closes with 1009
  std::vector<App> apps;
  WebhookSettings webhooks;  // batching, retries and bounds of every app's webhooks
  bool default_credentials = true;  // the embedded development app is in use
};

// Outcome of reading the command line: run, or exit with `exit_code` after printing `output`.
struct ParseResult {
  bool run = false;
  int exit_code = 0;
  std::string output;  // text for stdout (help, version) or stderr (errors)
  Config config;
};

// `env` is a lookup for environment variables (nullptr when unset), so tests need no real env.
using EnvLookup = const char* (*)(const char*);
ParseResult parse_command_line(int argc, const char* const* argv, EnvLookup env);

std::string usage();

}  // namespace raptor
