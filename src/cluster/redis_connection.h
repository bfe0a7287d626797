// One asynchronous connection to Redis on a worker's event loop, reconnected with back-off.
// hiredis 0.14 neither reconnects nor times out: after a failure or a lost connection this makes
// a new context at the next tick() that is due (1 s, then 2 s, 4 s, up to 8 s between attempts;
// an attempt not connected and authenticated within 5 s is abandoned), and its owner is told
// (on_up / on_down) so that it can say again what the new connection must know (its
// subscriptions). Commands are only accepted while the connection is up. A Redis that accepts
// the connection but stops answering is noticed by check_alive's PING. Used on the worker's
// thread only.
#pragma once
#include <cstdint>
#include <string>

#include "cluster/event_port.h"
#include "config/cluster_settings.h"

struct redisAsyncContext;

namespace raptor::cluster {

class RedisConnection : private EventPort::Handler {
 public:
  class Owner {
   public:
    virtual ~Owner() = default;
    // Connected (and authenticated): commands may be sent.
    virtual void on_up(RedisConnection& c) = 0;
    // Lost (`was_up`), or an attempt failed; commands sent before are answered with a null
    // reply. Not called when the connection is closed on purpose (the destructor).
    virtual void on_down(RedisConnection& c, const std::string& why, bool was_up) = 0;
  };

  RedisConnection(const RedisAddress& address, EventPort& port, Owner& owner);
  ~RedisConnection() override;
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // Connects now, or retries when a retry is due; call about once a second.
  void tick(int64_t now_ms);
  // Drops the connection (on_down follows) and retries at the next tick: for a Redis that
  // stopped answering.
  void drop(const std::string& why);
  // For a Redis that accepts the connection but stops answering (stopped, overloaded), which
  // hiredis 0.14 never notices: sends a PING unless one is on its way; when the one on its way
  // has had no answer for `deadline_ms`, drops this connection and `partner` (its owner's other
  // connection to the same Redis, which stalls alike) with "no answer to PING for N s". Call
  // on each tick; false when the connection is not up (or was just dropped).
  bool check_alive(int64_t now_ms, int64_t deadline_ms, RedisConnection& partner);

  bool up() const { return state_ == State::Up; }
  // The hiredis context while up (for redisAsyncCommand), else null.
  redisAsyncContext* context() const { return state_ == State::Up ? context_ : nullptr; }
  // Writes what commands have queued now rather than at the next loop pass.
  void write_now();

 private:
  enum class State { Down, Connecting, Up };

  void connect(int64_t now_ms);
  void lost(const std::string& why);
  void on_readable() override;
  void on_writable() override;
  static void on_connect(const redisAsyncContext* ac, int status);
  static void on_disconnect(const redisAsyncContext* ac, int status);
  static void on_auth(redisAsyncContext* ac, void* reply, void* privdata);
  static void on_select(redisAsyncContext* ac, void* reply, void* privdata);
  // After AUTH (if any): SELECT the URL's database unless it is 0, then up.
  void select_then_up(redisAsyncContext* context);
  void become_up();
  static void on_pong(redisAsyncContext* ac, void* reply, void* privdata);
  static void add_write(void* data);
  static void cleanup(void* data);

  const RedisAddress& address_;
  EventPort& port_;
  Owner& owner_;
  redisAsyncContext* context_ = nullptr;
  EventPort::Watch* watch_ = nullptr;
  State state_ = State::Down;
  bool closing_ = false;  // closed on purpose: no on_down, no retry
  int64_t attempt_ms_ = 0;  // when the current attempt began
  int64_t retry_at_ms_ = 0;
  int64_t backoff_ms_ = 0;
  int64_t ping_sent_ms_ = 0;  // 0: no PING waits for its answer
};

}  // namespace raptor::cluster
