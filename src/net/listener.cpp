#include "net/listener.h"

#include <libwebsockets.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/log.h"
#include "net/worker.h"

namespace raptor::net {
namespace {

// Connections accepted per wake-up before the loop serves others again.
constexpr int kAcceptsPerWakeup = 64;
// Out of file descriptors, the listening socket stays readable and poll() would spin: stop
// watching it this long, then try again.
constexpr lws_usec_t kFullPause = 250 * LWS_US_PER_MS;

struct Listener {
  lws_sorted_usec_list_t resume;  // first: the timer callback gets &resume
  lws* wsi;
  bool warned;
};

void resume_accepting(lws_sorted_usec_list_t* sul) {
  auto* l = reinterpret_cast<Listener*>(sul);
  lws_rx_flow_control(l->wsi, 1);
}

}  // namespace

namespace {

// The first address `host` resolves to for listening on `port`.
addrinfo* resolve(const std::string& host, int port, std::string& error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  std::string service = std::to_string(port);
  if (int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &found)) {
    error = std::string("cannot resolve ") + host + ": " + gai_strerror(rc);
    return nullptr;
  }
  return found;
}

}  // namespace

bool claim_port(const std::string& host, int port, std::string& error) {
  addrinfo* found = resolve(host, port, error);
  if (!found) return false;
  int fd = socket(found->ai_family, found->ai_socktype | SOCK_CLOEXEC, 0);
  int one = 1;
  bool ok = fd >= 0 && !setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) &&
            !bind(fd, found->ai_addr, found->ai_addrlen);
  if (!ok) error = "cannot listen on " + host + ":" + std::to_string(port) + ": " + strerror(errno);
  if (fd >= 0) close(fd);
  freeaddrinfo(found);
  return ok;
}

int open_listen_socket(const std::string& host, int port, std::string& error) {
  addrinfo* found = resolve(host, port, error);
  if (!found) return -1;
  std::string service = std::to_string(port);
  int fd = socket(found->ai_family, found->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
      setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) ||
      bind(fd, found->ai_addr, found->ai_addrlen) || listen(fd, SOMAXCONN)) {
    error = "cannot listen on " + host + ":" + service + ": " + strerror(errno);
    if (fd >= 0) close(fd);
    fd = -1;
  }
  freeaddrinfo(found);
  return fd;
}

lws* watch_listen_socket(lws_vhost* vhost, int fd, const char* protocol_name) {
  lws_sock_file_fd_type desc;
  desc.filefd = fd;
  lws* wsi = lws_adopt_descriptor_vhost(vhost, LWS_ADOPT_RAW_FILE_DESC, desc, protocol_name, nullptr);
  if (wsi) lws_set_opaque_user_data(wsi, new Listener{{}, wsi, false});
  return wsi;
}

int listener_callback(lws* wsi, int reason) {
  auto* listener = static_cast<Listener*>(lws_get_opaque_user_data(wsi));
  if (reason == LWS_CALLBACK_RAW_CLOSE_FILE && listener) {
    lws_sul_cancel(&listener->resume);
    lws_set_opaque_user_data(wsi, nullptr);
    delete listener;
    return 0;
  }
  if (reason != LWS_CALLBACK_RAW_RX_FILE || !listener) return 0;
  int listen_fd = lws_get_socket_fd(wsi);
  for (int i = 0; i < kAcceptsPerWakeup; ++i) {
    int fd = accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE) {
        if (!listener->warned) log::warn("out of file descriptors: new connections wait (see the open-file limit above)");
        listener->warned = true;
        lws_rx_flow_control(wsi, 0);
        lws_sul_schedule(lws_get_context(wsi), 0, &listener->resume, resume_accepting, kFullPause);
      }
      break;  // EAGAIN: all accepted
    }
    // Small frames must leave at once: Nagle plus the peer's delayed ACK would add ~40 ms.
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    static_cast<Worker*>(lws_context_user(lws_get_context(wsi)))->accept(fd);
  }
  return 0;
}

}  // namespace raptor::net
