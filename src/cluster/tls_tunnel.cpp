#include "cluster/tls_tunnel.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "common/name_resolver.h"

namespace raptor::cluster {
namespace {

std::string openssl_error(const char* fallback) {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (!code) return fallback;
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

}  // namespace

// One side of the tunnel on the event loop: Redis's TLS socket or hiredis's Unix socket.
struct TlsTunnel::End : EventPort::Handler {
  TlsTunnel& tunnel;
  bool redis;
  int fd = -1;
  EventPort::Watch* watch = nullptr;
  End(TlsTunnel& t, bool is_redis) : tunnel(t), redis(is_redis) {}

  void on_readable() override { tunnel.pump(); }
  void on_writable() override {
    if (redis && !tunnel.connected_) {  // the non-blocking connect has completed, or failed
      int error = 0;
      socklen_t size = sizeof error;
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size);
      if (error) return tunnel.fail(std::string("cannot connect: ") + strerror(error));
      tunnel.connected_ = true;
    }
    tunnel.pump();
  }
  void close(EventPort& port) {
    if (watch) port.unwatch(watch);
    watch = nullptr;
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

std::shared_ptr<SSL_CTX> TlsTunnel::make_context(const Settings& settings, std::string& error) {
  std::shared_ptr<SSL_CTX> context(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
  if (!context) return error = openssl_error("cannot make a TLS context"), nullptr;
  SSL_CTX_set_min_proto_version(context.get(), TLS1_2_VERSION);
  SSL_CTX_set_mode(context.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (!settings.verify) {
    SSL_CTX_set_verify(context.get(), SSL_VERIFY_NONE, nullptr);
    return context;
  }
  SSL_CTX_set_verify(context.get(), SSL_VERIFY_PEER, nullptr);
  bool loaded = settings.ca_file.empty() ? SSL_CTX_set_default_verify_paths(context.get()) == 1
                                         : SSL_CTX_load_verify_locations(context.get(), settings.ca_file.c_str(), nullptr) == 1;
  if (!loaded)
    return error = "cannot read the CA certificates " +
                   (settings.ca_file.empty() ? std::string("of the system") : "in " + settings.ca_file) + ": " +
                   openssl_error("no certificate"),
           nullptr;
  return context;
}

TlsTunnel::TlsTunnel(EventPort& port, std::shared_ptr<SSL_CTX> context, std::string host, bool verify)
    : port_(port), context_(std::move(context)), host_(std::move(host)), verify_(verify),
      redis_(std::make_unique<End>(*this, true)), client_(std::make_unique<End>(*this, false)) {}

TlsTunnel::~TlsTunnel() {
  close_all();
  if (ssl_) SSL_free(ssl_);
}

std::string TlsTunnel::open(const std::string& ip, int port) {
  // Redis's side: a non-blocking TCP connect, then the handshake on the loop.
  sockaddr_storage to{};
  socklen_t to_size;
  if (ip.find(':') != std::string::npos) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&to);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(uint16_t(port));
    inet_pton(AF_INET6, ip.c_str(), &a->sin6_addr);
    to_size = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&to);
    a->sin_family = AF_INET;
    a->sin_port = htons(uint16_t(port));
    inet_pton(AF_INET, ip.c_str(), &a->sin_addr);
    to_size = sizeof *a;
  }
  redis_->fd = socket(to.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (redis_->fd < 0) return fail(std::string("no socket: ") + strerror(errno)), "";
  if (connect(redis_->fd, reinterpret_cast<sockaddr*>(&to), to_size) != 0 && errno != EINPROGRESS)
    return fail(std::string("cannot connect: ") + strerror(errno)), "";
  ssl_ = SSL_new(context_.get());
  if (!ssl_ || SSL_set_fd(ssl_, redis_->fd) != 1) return fail(openssl_error("cannot start TLS")), "";
  bool is_ip = NameResolver::is_address(host_);
  if (!is_ip) SSL_set_tlsext_host_name(ssl_, host_.c_str());  // SNI: names only (RFC 6066)
  if (verify_) {
    X509_VERIFY_PARAM* check = SSL_get0_param(ssl_);
    if (is_ip ? X509_VERIFY_PARAM_set1_ip_asc(check, host_.c_str()) != 1
              : X509_VERIFY_PARAM_set1_host(check, host_.c_str(), 0) != 1)
      return fail("cannot check the certificate against " + host_), "";
  }
  // hiredis's side: a Unix socket only this user can reach, for one connection.
  const char* tmp = getenv("TMPDIR");
  std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/raptor-redis-XXXXXX";
  if (!mkdtemp(pattern.data())) return fail(std::string("cannot make a directory in /tmp: ") + strerror(errno)), "";
  dir_ = pattern;
  path_ = dir_ + "/tls";
  sockaddr_un local{};
  local.sun_family = AF_UNIX;
  if (path_.size() >= sizeof local.sun_path) return fail("TMPDIR is too long for a Unix socket"), "";
  memcpy(local.sun_path, path_.c_str(), path_.size() + 1);
  listener_ = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listener_ < 0 || bind(listener_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||
      listen(listener_, 1) != 0)
    return fail(std::string("cannot listen on a Unix socket: ") + strerror(errno)), "";
  redis_->watch = port_.watch(redis_->fd, *redis_);
  if (!redis_->watch) return fail("the event loop refused the socket"), "";
  port_.want_write(redis_->watch);  // the connect completes when the socket is writable
  return path_;
}

bool TlsTunnel::accept_client() {
  if (listener_ < 0) return false;
  // hiredis's connect to a listening Unix socket is queued at once: no waiting on the loop.
  client_->fd = accept4(listener_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  ::close(listener_);
  listener_ = -1;
  unlink(path_.c_str());
  rmdir(dir_.c_str());
  if (client_->fd < 0) return fail(std::string("hiredis did not connect to the tunnel: ") + strerror(errno)), false;
  client_->watch = port_.watch(client_->fd, *client_);
  if (!client_->watch) return fail("the event loop refused the socket"), false;
  return true;
}

bool TlsTunnel::handshake() {
  int r = SSL_connect(ssl_);
  if (r == 1) return secure_ = true;
  int why = SSL_get_error(ssl_, r);
  if (why == SSL_ERROR_WANT_READ) return false;
  if (why == SSL_ERROR_WANT_WRITE) {
    port_.want_write(redis_->watch);
    return false;
  }
  long verified = SSL_get_verify_result(ssl_);
  if (verify_ && verified != X509_V_OK)
    fail(std::string("TLS: the certificate of Redis is refused: ") + X509_verify_cert_error_string(verified));
  else
    fail("TLS handshake with Redis failed: " + openssl_error(why == SSL_ERROR_SYSCALL ? "connection closed" : "refused"));
  return false;
}

void TlsTunnel::pump() {
  if (client_->fd < 0 || redis_->fd < 0) return;  // closed
  char buf[16384];
  for (;;) {  // hiredis's commands
    ssize_t n = read(client_->fd, buf, sizeof buf);
    if (n > 0) {
      to_redis_.append(buf, size_t(n));
      continue;
    }
    if (n == 0 || (errno != EAGAIN && errno != EINTR)) return close_all();  // hiredis let go
    if (errno == EAGAIN) break;
  }
  if (!connected_ || (!secure_ && !handshake())) return;
  while (!to_redis_.empty()) {
    int n = SSL_write(ssl_, to_redis_.data(), int(to_redis_.size()));
    if (n > 0) {
      to_redis_.erase(0, size_t(n));
      continue;
    }
    int why = SSL_get_error(ssl_, n);
    if (why == SSL_ERROR_WANT_WRITE) port_.want_write(redis_->watch);
    if (why != SSL_ERROR_WANT_WRITE && why != SSL_ERROR_WANT_READ) return fail("TLS: " + openssl_error("cannot write"));
    break;
  }
  for (;;) {  // Redis's replies
    int n = SSL_read(ssl_, buf, sizeof buf);
    if (n > 0) {
      to_client_.append(buf, size_t(n));
      continue;
    }
    int why = SSL_get_error(ssl_, n);
    if (why == SSL_ERROR_WANT_READ) break;
    if (why == SSL_ERROR_WANT_WRITE) {
      port_.want_write(redis_->watch);
      break;
    }
    return fail(why == SSL_ERROR_ZERO_RETURN || why == SSL_ERROR_SYSCALL ? "Redis closed the TLS connection"
                                                                        : "TLS: " + openssl_error("cannot read"));
  }
  while (!to_client_.empty()) {
    ssize_t n = write(client_->fd, to_client_.data(), to_client_.size());
    if (n > 0) {
      to_client_.erase(0, size_t(n));
      continue;
    }
    if (n < 0 && errno == EAGAIN) port_.want_write(client_->watch);
    if (n < 0 && errno != EAGAIN && errno != EINTR) return close_all();
    if (n < 0 && errno == EINTR) continue;
    break;
  }
}

void TlsTunnel::fail(const std::string& why) {
  if (error_.empty()) error_ = why;
  close_all();  // hiredis reads the end of its socket and reports the connection lost
}

void TlsTunnel::close_all() {
  redis_->close(port_);
  client_->close(port_);
  if (listener_ >= 0) {
    ::close(listener_);
    listener_ = -1;
    unlink(path_.c_str());
    rmdir(dir_.c_str());
  }
}

}  // namespace raptor::cluster
