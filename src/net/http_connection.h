// One client connection served as HTTP/1.1 (plain, or TLS that libwebsockets decrypts): bytes
// from the socket go through http::RequestReader, each request is answered in turn with
// http::handle's response, and a WebSocket upgrade found on it is bridged to libwebsockets'
// WebSocket side (see Bridge below). Connections whose first request is an upgrade never come
// here (net/arrival.h hands them to libwebsockets directly).
#pragma once
#include <ev.h>

#include <cstdint>
#include <string>

#include "http/request_reader.h"

struct lws;

namespace raptor::net {

class Worker;

class HttpConnection {
 public:
  HttpConnection(Worker& worker, lws* wsi);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // The libwebsockets callbacks of the client's socket and, when bridged, of the worker's end of
  // the bridge; nonzero closes that socket.
  int on_client(int reason, void* in, size_t len);
  int on_bridge(int reason, void* in, size_t len);
  // The answer to the request being computed (Worker::answered).
  void answered(http::Response response);

 private:
  // Reads requests on from what has arrived, answering each, until one is being computed, more
  // bytes are needed, or the connection ends.
  void read_on();
  void send(const std::string& bytes);
  // Sends the answer and what the connection does after it.
  void respond(const http::Response& r, bool close);
  // The connection ends once what was sent has left (see on_client's writable).
  void end();
  void set_timer();
  static void on_timer(struct ev_loop* loop, ev_timer* timer, int events);
  // A WebSocket upgrade on this connection: libwebsockets serves the WebSocket on one end of a
  // socket pair, this connection copies bytes between the client and the other end.
  void bridge(const std::string& upgrade);
  void unbridge();

  Worker& worker_;
  lws* wsi_;
  std::string peer_;  // the TCP peer, or the client a PROXY header named (net/peer_addresses.h)
  lws* bridge_ = nullptr;  // the worker's end of the socket pair, once bridged
  http::RequestReader reader_;
  uint64_t awaiting_ = 0;  // the number of the answer being computed (Worker::await_answer)
  int64_t request_read_us_ = 0;  // when that request was read in full (metrics: its duration)
  bool ending_ = false;     // the last answer is out: close once lws has sent it
  bool lingering_ = false;  // closed for sending, dropping what the client still sends
  bool reading_ = false;    // inside read_on(): an answer given meanwhile does not read on itself
  bool paused_ = false;     // not reading the socket while too much is read ahead
  bool exchange_open_ = false;  // counted in the worker's HTTP exchanges (drain)
  size_t served_ = 0;           // answers sent
  http::RequestReader::Phase phase_ = http::RequestReader::Phase::Idle;  // what the timer times
  size_t timed_answers_ = 0;  // served_ when the timer started: which request it times
  ev_timer timer_;
};

// The lws protocols' callbacks: the client's socket ("raptor-http") and the bridge's end
// ("raptor-bridge"). The HttpConnection is the socket's opaque user data.
int on_http_socket(lws* wsi, int reason, void* in, size_t len);
int on_bridge_socket(lws* wsi, int reason, void* in, size_t len);
extern const char* const kHttpProtocol;
extern const char* const kBridgeProtocol;

}  // namespace raptor::net
