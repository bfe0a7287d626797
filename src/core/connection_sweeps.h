// Passes over all of the worker's connections that close some of them: liveness (a ping after
// `activity_timeout_s` of silence, 4201 when its pong does not come within `pong_timeout_s`,
// 4009 for a connection still anonymous past its app's user_authentication_timeout_s), 4001 for
// the connections of apps a reload retired, 4200 for some connections at a time while the
// node drains (SIGTERM), and 4100 for the slowest readers while the process's send queues are
// over their ceiling. Each close is told to the client first (pusher:error) and carried out
// by the transport. Single-threaded: the worker's loop.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/connection_table.h"
#include "core/engine_limits.h"
#include "core/sender.h"

namespace raptor {

enum class LivenessDue { Nothing, Ping, PongTimeout };

// What `c`'s silence calls for at `now_ms`. A connection waiting for its pong is not pinged again.
LivenessDue liveness_due(const Connection& c, int64_t now_ms, const EngineLimits& limits);
// Whether `c` is still anonymous ("authorized connections": signed in, or subscribed to a
// private or presence channel) past its app's limit (none when the limit is 0).
bool past_sign_in_deadline(const Connection& c, int64_t now_ms);

class ConnectionSweeps {
 public:
  ConnectionSweeps(ConnectionTable& connections, Sender& sender) : connections_(connections), sender_(sender) {}

  // Pings, pong time-outs and the sign-in deadline for part `part` of `parts` of the connections
  // (ConnectionTable::for_each_in_part), so that no pass stops the worker for all of them at once.
  void check_liveness(size_t part, size_t parts, int64_t now_ms, const EngineLimits& limits);
  // Closes the connections of retired apps. Returns how many.
  size_t close_retired();
  // While the unsent bytes of every worker's connections (core/send_queue_totals.h) are over
  // `ceiling` (0: none): closes connections with 4100, the largest queues first, until they are
  // not. Returns how many.
  size_t close_largest_queues(size_t ceiling);
  // Closes up to `n` of the open connections. Returns how many.
  size_t close_going_away(size_t n);

 private:
  // Closes `c` with `code`, the client told `reason` first.
  void close_with_error(Connection& c, int code, const std::string& reason);

  ConnectionTable& connections_;
  Sender& sender_;
};

}  // namespace raptor
