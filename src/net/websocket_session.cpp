// WebSocket connections: admission, message reassembly, and writing the engine's queue.
#include <libwebsockets.h>

#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "common/websocket_refusal_log.h"
#include "config/config.h"
#include "net/handshake.h"
#include "net/websocket_session.h"
#include "net/worker.h"
#include "protocol/errors.h"

namespace raptor::net {
namespace {

// Pending frames leave coalesced: several WebSocket frames go to the kernel in one sendmsg(),
// headers and shared payloads gathered without copying. The per-send cost dominates fan-out, so
// this is where throughput comes from. A batch is bounded so one busy socket cannot starve the
// others.
constexpr size_t kMaxBatchBytes = 64 * 1024;
constexpr size_t kMaxBatchFrames = 256;

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

// Hands lws the unsent tail of a frame; lws sends bytes written as LWS_WRITE_HTTP on a WebSocket
// as they are, keeps what the socket does not take, and finishes it before anything else it
// writes (pongs, the close frame) and before it calls us writable again.
bool hand_tail_to_lws(lws* wsi, const unsigned char* bytes, size_t n) {
  static thread_local std::vector<unsigned char> tail;
  tail.resize(LWS_PRE + n);
  memcpy(tail.data() + LWS_PRE, bytes, n);
  return lws_write(wsi, tail.data() + LWS_PRE, n, LWS_WRITE_HTTP) == static_cast<int>(n);
}

// One batch of queued frames, written on the socket directly: libwebsockets is only asked to wait
// for writability when the kernel does not take everything. That spares the event loop a round
// trip per delivery (and, on epoll, turning write interest on and off). Safe because lws holds no
// output of its own for this socket (lws_partial_buffered) and a WebSocket frame never goes out
// half: the unsent tail of a frame goes to lws, which sends it first. TLS sockets go through lws.
// Returns false when the connection is to be closed.
bool write_batch(lws* wsi, Connection& c) {
  if (lws_partial_buffered(wsi)) return true;  // lws finishes its own output first
  if (lws_is_ssl(wsi)) {
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
  unsigned char headers[kMaxBatchFrames][10];
  iovec iov[2 * kMaxBatchFrames];
  size_t frames = 0, bytes = 0;
  for (size_t i = 0; i < c.queued_frames() && frames < kMaxBatchFrames && bytes < kMaxBatchBytes; ++i, ++frames) {
    Frame* f = c.at(i);
    size_t h = text_frame_header(headers[frames], f->size());
    iov[2 * frames] = {headers[frames], h};
    iov[2 * frames + 1] = {f->payload(), f->size()};
    bytes += h + f->size();
  }
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = 2 * frames;
  ssize_t sent = sendmsg(lws_get_socket_fd(wsi), &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
  if (sent < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return true;
    return false;  // reset or broken: the connection is gone
  }
  // Drop what went out whole; the frame cut short has its tail handed to lws.
  size_t left = size_t(sent);
  for (size_t i = 0; i < frames; ++i) {
    size_t h = iov[2 * i].iov_len, n = h + iov[2 * i + 1].iov_len;
    if (left >= n) {
      left -= n;
      c.pop_front();
      continue;
    }
    bool ok = true;
    if (left < h) ok = hand_tail_to_lws(wsi, headers[i] + left, h - left), left = h;
    ok = ok && hand_tail_to_lws(wsi, c.front()->payload() + (left - h), n - left);
    c.pop_front();
    return ok;
  }
  return true;
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

// A compressed connection's frames go through lws one at a time: lws deflates each on its own and
// may need several writable callbacks to drain one.
bool write_compressed(lws* wsi, Connection& c) {
  Frame* f = c.front();
  if (lws_write(wsi, f->payload(), f->size(), LWS_WRITE_TEXT) < 0) return false;
  c.pop_front();
  return true;
}

// Writes what the connection has queued, then closes it if the engine asked to; asks to be
// called again while frames remain. Returns -1 to have lws close the connection.
int write_pending(lws* wsi, Session& s) {
  Connection& c = *s.conn;
  if (c.has_pending() && !(s.compressed ? write_compressed(wsi, c) : write_batch(wsi, c))) return -1;
  if (c.has_pending() || lws_partial_buffered(wsi)) {
    lws_callback_on_writable(wsi);
    return 0;
  }
  if (c.closing()) return close_with(wsi, c.close_code(), c.close_reason());
  return 0;
}

}  // namespace

void flush_websocket(lws* wsi, Session& s) {
  Connection& c = *s.conn;
  if (!c.closing() && !s.compressed && write_batch(wsi, c) && !c.has_pending() && !lws_partial_buffered(wsi))
    return;
  lws_callback_on_writable(wsi);  // the rest, or the close, from SERVER_WRITEABLE
}

int on_websocket(Worker& worker, lws* wsi, int reason, Session* s, void* in, size_t len) {
  Engine& engine = worker.engine();
  switch (reason) {
    case LWS_CALLBACK_ESTABLISHED: {
      char protocol[16];
      const char* version = lws_get_urlarg_by_name(wsi, "protocol=", protocol, sizeof protocol);
      std::optional<std::string_view> version_arg;
      if (version) version_arg = std::string_view(version);
      std::optional<std::string> bridged_peer = worker.peer_addresses().take(lws_get_socket_fd(wsi));
      const Config& config = worker.config();
      std::string client = websocket_client_address(wsi, bridged_peer, config.trusted_proxies, config.forwarded_header);
      std::unique_ptr<Handshake> handshake = engine.wants_handshake() ? read_handshake(wsi, client) : nullptr;
      std::optional<std::string_view> origin;
      std::string origin_header = header(wsi, WSI_TOKEN_ORIGIN);
      if (lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN) > 0) origin = origin_header;
      Admission a = engine.admit(header(wsi, WSI_TOKEN_GET_URI), version_arg, handshake.get(), origin, client);
      if (!a.app) log::websocket_refused(client, a.close_code, a.reason);
      s->conn = a.app ? engine.open(*a.app, wsi, std::move(handshake), std::move(a.address_hold))
                      : engine.open_refused(wsi, a);
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
      return s->conn ? write_pending(wsi, *s) : 0;
    case LWS_CALLBACK_CLOSED:
      if (s->flush_slot) worker.forget(*s);
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
