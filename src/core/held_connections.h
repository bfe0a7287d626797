// Readiness (docs/cluster.md#readiness): a node of a cluster takes WebSocket traffic only once
// its cluster link is whole (core/node_readiness.h). A connection opened before is held: it gets
// no connection_established, so a Pusher client sends nothing yet (a client that does has its
// messages kept, in order), and is established when the node becomes ready, its messages then
// handled as if they had just arrived. Holding rather than refusing: a client that reached the
// node early (a balancer without health checks, a client pinned to the node) loses nothing and
// waits at most the start-up wait. Single-threaded: the worker's loop (the readiness it reads is
// the Hub's, shared by the workers).
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/connection.h"
#include "core/connection_table.h"
#include "core/hub.h"
#include "core/sender.h"

namespace raptor {

class HeldConnections {
 public:
  using Clock = std::function<int64_t()>;  // milliseconds, monotonic
  // What establishes a held connection: `sent` is what it sent meanwhile, in order.
  using Establish = std::function<void(Connection& c, const std::vector<std::string>& sent)>;

  // Every argument outlives the part (the engine's own members, and what it was given).
  HeldConnections(Hub& hub, const ConnectionTable& connections, Sender& sender, const Clock& clock)
      : hub_(hub), connections_(connections), sender_(sender), clock_(clock) {}

  // Whether the node takes traffic yet. A node alone is ready at once.
  bool ready() const;
  // What a node not ready yet waits for (empty when ready).
  std::string waiting_for() const;
  // Holds `c`, opened before the node was ready.
  void hold(const Connection& c) { held_[c.socket_id()]; }
  // When `c` is held: keeps what it sent for when it is established (or closes it past a bound)
  // and answers true.
  bool hold_message(Connection& c, std::string_view text);
  // Once the node is ready: hands each held connection still open to `establish`.
  void release(const Establish& establish);

 private:
  Hub& hub_;
  const ConnectionTable& connections_;
  Sender& sender_;
  const Clock& clock_;
  // Connections opened before the node was ready, by socket id: what each sent meanwhile.
  std::unordered_map<std::string, std::vector<std::string>> held_;
};

}  // namespace raptor
