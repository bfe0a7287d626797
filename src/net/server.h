// The network side: one libwebsockets context serving WebSocket (/app/{key}) and HTTP on one
// port, with optional TLS. It owns the engine, feeds it frames and requests, and writes what
// the engine queues. This directory is the only place that includes libwebsockets.
#pragma once
#include <memory>

#include "config/config.h"
#include "core/engine.h"

struct lws;
struct lws_context;

namespace raptor::net {

// Per-socket state that libwebsockets allocates for us (zeroed).
struct Session {
  Connection* conn;        // WebSocket: the engine's connection
  std::string* rx;         // WebSocket: the message being reassembled
  struct HttpExchange* http;  // HTTP: the request being read
};

class Server : public Transport {
 public:
  explicit Server(const Config& config);
  ~Server() override;

  // Serves until SIGINT or SIGTERM; returns the process exit status.
  int run();

  void wake(Connection& c) override;

  Engine& engine() { return *engine_; }
  const Config& config() const { return config_; }

 private:
  Config config_;
  std::unique_ptr<Engine> engine_;
  lws_context* context_ = nullptr;
};

// Callback halves, by role (websocket_session.cpp, http_session.cpp).
int on_websocket(Server& server, lws* wsi, int reason, Session* session, void* in, size_t len);
int on_http(Server& server, lws* wsi, int reason, Session* session, void* in, size_t len);

}  // namespace raptor::net
