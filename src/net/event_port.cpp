#include "net/event_port.h"

#include <libwebsockets.h>
#include <unistd.h>

namespace raptor::net {

const char* const kRawSocketProtocol = "raptor-raw-socket";

}  // namespace raptor::net

// The handle cluster/ holds: the adopted wsi and who to tell. The wsi may outlive it (lws closes
// it asynchronously), so the wsi points here only until unwatch().
struct raptor::cluster::EventPort::Watch {
  lws* wsi;
  Handler* handler;
};

namespace raptor::net {

cluster::EventPort::Watch* LwsEventPort::watch(int fd, Handler& handler) {
  // lws closes the descriptor it adopts when it lets go; the owner (hiredis) closes its own.
  lws_sock_file_fd_type adopted;
  adopted.filefd = dup(fd);
  if (adopted.filefd < 0) return nullptr;
  lws* wsi = lws_adopt_descriptor_vhost(vhost_, LWS_ADOPT_RAW_FILE_DESC, adopted, kRawSocketProtocol, nullptr);
  if (!wsi) {
    close(adopted.filefd);
    return nullptr;
  }
  auto* w = new Watch{wsi, &handler};
  lws_set_opaque_user_data(wsi, w);
  return w;
}

void LwsEventPort::want_write(Watch* w) {
  if (w->wsi) lws_callback_on_writable(w->wsi);  // one callback; lws stops watching after it
}

void LwsEventPort::unwatch(Watch* w) {
  if (w->wsi) {
    lws_set_opaque_user_data(w->wsi, nullptr);
    lws_set_timeout(w->wsi, PENDING_TIMEOUT_KILLED_BY_PARENT, LWS_TO_KILL_ASYNC);
  }
  delete w;
}

int on_raw_socket(lws* wsi, int reason, void*, void*, size_t) {
  auto* w = static_cast<cluster::EventPort::Watch*>(lws_get_opaque_user_data(wsi));
  if (!w) return 0;
  switch (reason) {
    case LWS_CALLBACK_RAW_RX_FILE:
      w->handler->on_readable();
      break;
    case LWS_CALLBACK_RAW_WRITEABLE_FILE:
      w->handler->on_writable();
      break;
    case LWS_CALLBACK_RAW_CLOSE_FILE:
      // lws let go of it (the peer hung up or an error): the owner learns what happened by
      // reading its own descriptor.
      w->wsi = nullptr;
      w->handler->on_readable();
      break;
    default:
      break;
  }
  return 0;
}

}  // namespace raptor::net
