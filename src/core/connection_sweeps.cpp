#include "core/connection_sweeps.h"

#include <algorithm>
#include <vector>

#include "core/send_queue_totals.h"
#include "metrics/counters.h"

#include "protocol/errors.h"
#include "protocol/messages.h"

namespace raptor {

LivenessDue liveness_due(const Connection& c, int64_t now_ms, const EngineLimits& limits) {
  if (c.ping_sent_ms() == 0)
    return now_ms - c.last_seen_ms() >= int64_t(limits.activity_timeout_s) * 1000 ? LivenessDue::Ping
                                                                                  : LivenessDue::Nothing;
  return now_ms - c.ping_sent_ms() >= int64_t(limits.pong_timeout_s) * 1000 ? LivenessDue::PongTimeout
                                                                           : LivenessDue::Nothing;
}

bool past_sign_in_deadline(const Connection& c, int64_t now_ms) {
  int limit_s = c.app().user_authentication_timeout_s;
  return limit_s > 0 && !c.authorized() && now_ms - c.opened_ms() >= int64_t(limit_s) * 1000;
}

void ConnectionSweeps::close_with_error(Connection& c, int code, const std::string& reason) {
  sender_.send_error(c, code, reason);
  sender_.close(c, code, reason);
}

void ConnectionSweeps::check_liveness(size_t part, size_t parts, int64_t now_ms, const EngineLimits& limits) {
  // A rehash between two parts moves connections between ranges: a ping is then sent at most a
  // second late, and never twice (ping_sent_ms).
  connections_.for_each_in_part(part, parts, [&](Connection& c) {
    // close() only marks a connection closing: it leaves the table in Engine::on_closed, later.
    if (c.closing()) return;
    switch (liveness_due(c, now_ms, limits)) {
      case LivenessDue::Nothing:
        break;
      case LivenessDue::Ping:
        c.ping_sent(now_ms);
        sender_.send(c, messages::ping());
        break;
      case LivenessDue::PongTimeout:
        close_with_error(c, code(CloseCode::PongTimeout), "Pong reply not received");
        return;
    }
    if (past_sign_in_deadline(c, now_ms))
      close_with_error(c, code(CloseCode::Unauthorized),
                       "Connection not authorized within " + std::to_string(c.app().user_authentication_timeout_s) +
                           " seconds: sign in or subscribe to a private or presence channel");
  });
}

size_t ConnectionSweeps::close_retired() {
  size_t n = 0;
  for (auto& entry : connections_) {
    Connection& c = *entry.second;
    if (!c.app().retired || c.closing()) continue;
    // Its app is gone: the same refusal as a connection to an unknown key gets, but that the
    // client is told why first.
    sender_.send_error(c, code(CloseCode::UnknownApp), "Application does not exist (removed by a configuration reload)");
    sender_.close(c, code(CloseCode::UnknownApp), "Application does not exist");
    ++n;
  }
  return n;
}

size_t ConnectionSweeps::close_largest_queues(size_t ceiling) {
  if (ceiling == 0) return 0;
  if (send_queues::total() <= int64_t(ceiling)) {
    send_queues::set_largest(0);
    return 0;
  }
  // Over: a pass over every connection, which only happens while the node is over its ceiling.
  std::vector<Connection*> queued;
  for (auto& entry : connections_)
    if (!entry.second->closing() && entry.second->queued_bytes() > 0) queued.push_back(entry.second.get());
  std::sort(queued.begin(), queued.end(),
            [](const Connection* a, const Connection* b) { return a->queued_bytes() > b->queued_bytes(); });
  send_queues::set_largest(queued.empty() ? 0 : queued.front()->queued_bytes());
  // The slowest first over the whole process: a worker closes only queues of at least half the
  // largest any worker has, and the others wait for a later pass, when the largest left is smaller.
  size_t from = send_queues::largest() / 2, closed = 0;
  for (Connection* c : queued) {
    if (send_queues::total() <= int64_t(ceiling) || c->queued_bytes() < from) break;
    sender_.drop_slow(*c, "Client too slow: the server's send queues are full");
    metrics::count(metrics::Count::SendQueueCeilingCloses);
    ++closed;
  }
  return closed;
}

size_t ConnectionSweeps::close_going_away(size_t n) {
  size_t closed = 0;
  for (auto it = connections_.begin(); it != connections_.end() && closed < n; ++it) {
    Connection& c = *it->second;
    if (c.closing()) continue;
    close_with_error(c, code(CloseCode::GoingAway), "Server is going away");
    ++closed;
  }
  return closed;
}

}  // namespace raptor
