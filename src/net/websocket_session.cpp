// WebSocket connections: admission, message reassembly, and writing the engine's queue.
#include <libwebsockets.h>

#include <string>

#include "net/server.h"
#include "protocol/errors.h"

namespace raptor::net {
namespace {

// Frames written per writable callback: several small sends per wakeup is where fan-out
// throughput comes from, while a bound keeps one busy socket from starving the others.
constexpr int kFramesPerWrite = 16;

std::string header(lws* wsi, enum lws_token_indexes token) {
  int n = lws_hdr_total_length(wsi, token);
  if (n <= 0) return {};
  std::string out(size_t(n) + 1, '\0');
  int got = lws_hdr_copy(wsi, &out[0], n + 1, token);
  out.resize(got > 0 ? size_t(got) : 0);
  return out;
}

int close_with(lws* wsi, int code, const std::string& reason) {
  lws_close_reason(wsi, static_cast<lws_close_status>(code),
                   reinterpret_cast<unsigned char*>(const_cast<char*>(reason.data())), reason.size());
  return -1;
}

int write_pending(Server& server, lws* wsi, Connection& c) {
  for (int i = 0; i < kFramesPerWrite && c.has_pending(); ++i) {
    Frame* f = c.front();
    if (lws_write(wsi, f->payload(), f->size(), LWS_WRITE_TEXT) < static_cast<int>(f->size())) return -1;
    c.pop_front();
    if (lws_send_pipe_choked(wsi)) break;
  }
  if (c.has_pending()) {
    lws_callback_on_writable(wsi);
    return 0;
  }
  if (c.closing()) return close_with(wsi, c.close_code(), c.close_reason());
  (void)server;
  return 0;
}

}  // namespace

int on_websocket(Server& server, lws* wsi, int reason, Session* s, void* in, size_t len) {
  Engine& engine = server.engine();
  switch (reason) {
    case LWS_CALLBACK_ESTABLISHED: {
      char protocol[16];
      const char* version = lws_get_urlarg_by_name(wsi, "protocol=", protocol, sizeof protocol);
      std::optional<std::string_view> version_arg;
      if (version) version_arg = std::string_view(version);
      Admission a = engine.admit(header(wsi, WSI_TOKEN_GET_URI), version_arg);
      s->conn = a.app ? engine.open(*a.app, wsi) : engine.open_refused(wsi, a);
      s->rx = new std::string();
      return 0;
    }
    case LWS_CALLBACK_RECEIVE: {
      if (!s->conn) return -1;
      if (s->rx->size() + len > server.config().max_message_bytes)
        return close_with(wsi, static_cast<int>(CloseCode::MessageTooBig), "Message too large");
      s->rx->append(static_cast<const char*>(in), len);
      if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi)) return 0;
      if (lws_frame_is_binary(wsi))
        engine.on_binary_message(*s->conn);
      else
        engine.on_message(*s->conn, *s->rx);
      s->rx->clear();
      return 0;
    }
    case LWS_CALLBACK_RECEIVE_PONG:
      if (s->conn) engine.on_pong(*s->conn);
      return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
      return s->conn ? write_pending(server, wsi, *s->conn) : 0;
    case LWS_CALLBACK_CLOSED:
      if (s->conn) engine.on_closed(s->conn);
      s->conn = nullptr;
      delete s->rx;
      s->rx = nullptr;
      return 0;
    default:
      return 0;
  }
}

}  // namespace raptor::net
