// Listening sockets of our own. Every worker binds the same address with SO_REUSEPORT, so the
// kernel spreads new connections over the workers' sockets; libwebsockets 4.1 cannot do that
// itself (its "listen share" option only matters on Windows). Each worker watches its socket
// through its lws loop and hands every accepted connection to lws.
#pragma once
#include <string>

struct lws;
struct lws_vhost;

namespace raptor::net {

// Whether nobody listens on the address yet (binding without SO_REUSEPORT): SO_REUSEPORT
// would otherwise let a second raptor, or an old one still running, quietly share the port
// and take part of the connections.
bool claim_port(const std::string& host, int port, std::string& error);

// A bound, listening, non-blocking socket; -1 with `error` set when that fails.
int open_listen_socket(const std::string& host, int port, std::string& error);

// Watches `fd` on `vhost`'s loop and hands what it accepts to the worker (Worker::accept).
// The listening wsi uses protocol `protocol_name`, whose callback is listener_callback.
lws* watch_listen_socket(lws_vhost* vhost, int fd, const char* protocol_name);
int listener_callback(lws* wsi, int reason);

}  // namespace raptor::net
