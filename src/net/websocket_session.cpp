// WebSocket connections: admission, message reassembly, and writing the engine's queue.
#include <libwebsockets.h>

#include <cstring>
#include <string>
#include <vector>

#include "net/server.h"
#include "protocol/errors.h"

namespace raptor::net {
namespace {

// Pending frames leave coalesced: several WebSocket frames are copied into one buffer and
// handed to the kernel in one send(). The per-send cost dominates fan-out, so this is where
// throughput comes from. The batch is bounded so one busy socket cannot starve the others.
constexpr size_t kMaxBatchBytes = 64 * 1024;

// Writes the header of an unmasked, final text frame of `len` bytes; returns its size.
size_t text_frame_header(unsigned char* out, size_t len) {
  out[0] = 0x81;  // FIN + text
  if (len < 126) {
    out[1] = static_cast<unsigned char>(len);
    return 2;
  }
  if (len < 65536) {
    out[1] = 126;
    out[2] = static_cast<unsigned char>(len >> 8);
    out[3] = static_cast<unsigned char>(len);
    return 4;
  }
  out[1] = 127;
  for (int i = 0; i < 8; ++i) out[2 + i] = static_cast<unsigned char>(uint64_t(len) >> (56 - 8 * i));
  return 10;
}

// Sends up to kMaxBatchBytes of queued frames in one write. lws sends LWS_WRITE_HTTP bytes on a
// WebSocket as they are (no framing of its own), and keeps any unsent tail to finish first.
bool write_batch(lws* wsi, Connection& c) {
  static thread_local std::vector<unsigned char> batch;
  batch.resize(LWS_PRE);
  while (c.has_pending() && batch.size() - LWS_PRE < kMaxBatchBytes) {
    Frame* f = c.front();
    size_t at = batch.size();
    batch.resize(at + 10 + f->size());
    size_t h = text_frame_header(&batch[at], f->size());
    memcpy(&batch[at + h], f->payload(), f->size());
    batch.resize(at + h + f->size());
    c.pop_front();
  }
  size_t n = batch.size() - LWS_PRE;
  return lws_write(wsi, batch.data() + LWS_PRE, n, LWS_WRITE_HTTP) == static_cast<int>(n);
}

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

int write_pending(lws* wsi, Connection& c) {
  if (c.queued_frames() == 1) {  // a lone frame goes out from its shared buffer, uncopied
    Frame* f = c.front();
    if (lws_write(wsi, f->payload(), f->size(), LWS_WRITE_TEXT) < static_cast<int>(f->size())) return -1;
    c.pop_front();
  } else if (c.has_pending() && !write_batch(wsi, c)) {
    return -1;
  }
  if (c.has_pending()) {
    lws_callback_on_writable(wsi);
    return 0;
  }
  if (c.closing()) return close_with(wsi, c.close_code(), c.close_reason());
  return 0;
}

}  // namespace

int on_websocket(Worker& worker, lws* wsi, int reason, Session* s, void* in, size_t len) {
  Engine& engine = worker.engine();
  switch (reason) {
    case LWS_CALLBACK_ESTABLISHED: {
      char protocol[16];
      const char* version = lws_get_urlarg_by_name(wsi, "protocol=", protocol, sizeof protocol);
      std::optional<std::string_view> version_arg;
      if (version) version_arg = std::string_view(version);
      Admission a = engine.admit(header(wsi, WSI_TOKEN_GET_URI), version_arg);
      s->conn = a.app ? engine.open(*a.app, wsi) : engine.open_refused(wsi, a);
      return 0;
    }
    case LWS_CALLBACK_RECEIVE: {
      if (!s->conn) return -1;
      std::string_view chunk(static_cast<const char*>(in), len);
      bool complete = lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi);
      size_t buffered = s->rx ? s->rx->size() : 0;
      if (buffered + len > worker.config().max_message_bytes)
        return close_with(wsi, static_cast<int>(CloseCode::MessageTooBig), "Message too large");
      if (!complete || buffered) {  // a message in pieces: gather it (most arrive whole)
        if (!s->rx) s->rx = new std::string();
        s->rx->append(chunk);
        if (!complete) return 0;
        chunk = *s->rx;
      }
      if (lws_frame_is_binary(wsi))
        engine.on_binary_message(*s->conn);
      else
        engine.on_message(*s->conn, chunk);
      delete s->rx;  // not kept: it may have grown to the message size limit
      s->rx = nullptr;
      return 0;
    }
    case LWS_CALLBACK_RECEIVE_PONG:
      if (s->conn) engine.on_pong(*s->conn);
      return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
      return s->conn ? write_pending(wsi, *s->conn) : 0;
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
