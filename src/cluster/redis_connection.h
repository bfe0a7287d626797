// One asynchronous connection to Redis on a worker's event loop, reconnected with back-off.
// hiredis 0.14 neither reconnects nor times out: after a failure or a lost connection this makes
// a new context at the next tick() that is due (1 s, then 2 s, 4 s, up to 8 s between attempts;
// an attempt not connected and authenticated within 5 s is abandoned), and its owner is told
// (on_up / on_down) so that it can say again what the new connection must know (its
// subscriptions). Commands are only accepted while the connection is up. A Redis that accepts
// the connection but stops answering is noticed by check_alive's PING. A host name is looked up
// (NameResolver, on the same loop) at every attempt after a lost connection, so a Redis that
// moved is found again; when it has several addresses, a failed attempt tries the next one at the
// next tick before the name is looked up again. Used on the worker's thread only.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cluster/event_port.h"
#include "cluster/tls_tunnel.h"
#include "common/name_resolver.h"
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
  // The hiredis context, to `ip` (an address of the host), through a TlsTunnel for rediss://;
  // why there is none.
  std::optional<std::string> open(const std::string& ip);
  // Why the context `ac` failed or closed (the tunnel knows better than hiredis).
  std::string why_closed(const redisAsyncContext* ac) const;
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
  std::unique_ptr<NameResolver> resolver_;  // when the host is a name
  uint64_t lookup_ = 0;                      // the lookup under way, if any
  std::vector<std::string> addresses_;       // the host's, from its last lookup
  size_t next_address_ = 0;                  // the one the next attempt tries
  std::shared_ptr<SSL_CTX> tls_context_;  // rediss://: made at the first attempt
  std::unique_ptr<TlsTunnel> tunnel_;     // rediss://: the current attempt's
  State state_ = State::Down;
  bool closing_ = false;  // closed on purpose: no on_down, no retry
  int64_t attempt_ms_ = 0;  // when the current attempt began
  int64_t retry_at_ms_ = 0;
  int64_t backoff_ms_ = 0;
  int64_t ping_sent_ms_ = 0;  // 0: no PING waits for its answer
};

}  // namespace raptor::cluster
