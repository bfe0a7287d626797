// TLS to Redis for hiredis 0.14, which has none (rediss://, docs/cluster.md "TLS"): hiredis
// talks plain RESP over a Unix socket to this tunnel, in the same process and on the same event
// loop, and the tunnel carries the bytes over an OpenSSL connection to Redis. The Unix socket
// lives in a fresh mode-0700 directory for the instant it takes hiredis to connect (only this
// process's user can reach it), and is removed as soon as the one connection is accepted.
// Used on the worker's thread only, by RedisConnection: one tunnel per connection attempt.
#pragma once
#include <memory>
#include <string>

#include "cluster/event_port.h"

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace raptor::cluster {

class TlsTunnel {
 public:
  // The client's TLS settings for one Redis: a CA file (empty: the system's certificates), and
  // whether to verify the certificate (and, per tunnel, that it names the host).
  struct Settings {
    std::string ca_file;
    bool verify = true;
  };
  // The TLS context made from `settings`; null, with `error` set, when it cannot be made.
  static std::shared_ptr<SSL_CTX> make_context(const Settings& settings, std::string& error);

  TlsTunnel(EventPort& port, std::shared_ptr<SSL_CTX> context, std::string host, bool verify);
  ~TlsTunnel();
  TlsTunnel(const TlsTunnel&) = delete;
  TlsTunnel& operator=(const TlsTunnel&) = delete;

  // Starts connecting to `ip`:`port` and listens for hiredis; the Unix socket's path, which
  // hiredis must connect to before the next loop pass; empty (with error()) when it cannot.
  std::string open(const std::string& ip, int port);
  // Takes hiredis's connection (call right after redisAsyncConnectUnix); false when it is not there.
  bool accept_client();
  // Why the tunnel closed (a failed handshake, Redis hung up), or empty.
  const std::string& error() const { return error_; }

 private:
  struct End;
  void pump();  // moves what can be moved, both ways
  bool handshake();
  void fail(const std::string& why);
  void close_all();

  EventPort& port_;
  std::shared_ptr<SSL_CTX> context_;
  std::string host_;
  bool verify_;
  std::string dir_, path_;  // the listening Unix socket, until hiredis is accepted
  int listener_ = -1;
  std::unique_ptr<End> redis_, client_;
  SSL* ssl_ = nullptr;
  bool connected_ = false;  // the TCP connect completed
  bool secure_ = false;     // the TLS handshake completed
  std::string to_redis_, to_client_;
  std::string error_;
};

}  // namespace raptor::cluster
