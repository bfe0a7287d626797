// A WebSocket client as libwebsockets serves it (websocket_session.cpp): admission, message
// reassembly and writing the engine's queue. On the worker's thread.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

struct lws;

namespace raptor {
class Connection;
}

namespace raptor::net {

class Worker;

// Per-WebSocket state that libwebsockets allocates for us (zeroed).
struct Session {
  Connection* conn;           // the engine's connection
  std::string* rx;            // a message arriving in pieces (allocated when one does)
  uint32_t flush_slot;        // 1 + its index in the worker's flush list, 0 when not on it
  bool compressed;            // permessage-deflate was agreed; lws frames every write
};

// The WebSocket callbacks.
int on_websocket(Worker& worker, lws* wsi, int reason, Session* session, void* in, size_t len);
// Writes a woken connection's queue, or leaves it to lws's writable callback when it cannot.
void flush_websocket(lws* wsi, Session& s);

}  // namespace raptor::net
