#include "core/connection_sweeps.h"

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
