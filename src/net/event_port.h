// The worker's event loop as cluster/ needs it for its Redis sockets (cluster::EventPort): each
// socket is adopted by libwebsockets as a raw file descriptor, so the same code serves it on
// either loop (libev/epoll or lws's poll) and its callbacks run between the clients' callbacks.
#pragma once
#include <cstddef>

#include "cluster/event_port.h"

struct lws;
struct lws_vhost;

namespace raptor::net {

class LwsEventPort : public cluster::EventPort {
 public:
  explicit LwsEventPort(lws_vhost* vhost) : vhost_(vhost) {}
  Watch* watch(int fd, Handler& handler) override;
  void want_write(Watch* w) override;
  void unwatch(Watch* w) override;

 private:
  lws_vhost* vhost_;
};

// The lws protocol of the adopted sockets (listed in the worker's protocols).
int on_raw_socket(lws* wsi, int reason, void* user, void* in, size_t len);
extern const char* const kRawSocketProtocol;

}  // namespace raptor::net
