#include "cluster/redis_connection.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <algorithm>

#include "metrics/counters.h"

namespace raptor::cluster {
namespace {

constexpr int64_t kFirstRetryMs = 1000;
constexpr int64_t kLongestRetryMs = 8000;
constexpr int64_t kAttemptDeadlineMs = 5000;  // to connect and authenticate (a black-holed address, a stalled Redis)

RedisConnection* owner_of(const redisAsyncContext* ac) { return static_cast<RedisConnection*>(ac->data); }

}  // namespace

RedisConnection::RedisConnection(const RedisAddress& address, EventPort& port, Owner& owner)
    : address_(address), port_(port), owner_(owner) {}

RedisConnection::~RedisConnection() {
  closing_ = true;
  if (context_) redisAsyncFree(context_);  // calls back: on_disconnect, then cleanup
}

void RedisConnection::tick(int64_t now_ms) {
  if (state_ == State::Connecting && now_ms - attempt_ms_ >= kAttemptDeadlineMs)
    drop("not connected within " + std::to_string(kAttemptDeadlineMs / 1000) + " s");
  if (state_ == State::Down && now_ms >= retry_at_ms_) connect(now_ms);
}

void RedisConnection::connect(int64_t now_ms) {
  backoff_ms_ = backoff_ms_ == 0 ? kFirstRetryMs : std::min(backoff_ms_ * 2, kLongestRetryMs);
  attempt_ms_ = now_ms;
  retry_at_ms_ = now_ms + backoff_ms_;  // if this attempt fails
  redisAsyncContext* ac = redisAsyncConnect(address_.host.c_str(), address_.port);
  if (!ac) return;
  if (ac->err) {
    redisAsyncFree(ac);
    return;
  }
  watch_ = port_.watch(ac->c.fd, *this);
  if (!watch_) {
    redisAsyncFree(ac);
    return;
  }
  context_ = ac;
  ac->data = this;
  ac->ev.data = this;
  ac->ev.addWrite = add_write;
  ac->ev.cleanup = cleanup;  // reading is always on; lws turns writing off after each write
  redisAsyncSetConnectCallback(ac, on_connect);
  redisAsyncSetDisconnectCallback(ac, on_disconnect);
  state_ = State::Connecting;
  port_.want_write(watch_);  // the non-blocking connect completes when the socket is writable
}

void RedisConnection::on_readable() {
  if (context_) redisAsyncHandleRead(context_);
}

void RedisConnection::on_writable() {
  if (context_) redisAsyncHandleWrite(context_);
}

void RedisConnection::write_now() {
  if (state_ == State::Up) redisAsyncHandleWrite(context_);
}

void RedisConnection::add_write(void* data) {
  auto* self = static_cast<RedisConnection*>(data);
  if (self->watch_) self->port_.want_write(self->watch_);
}

void RedisConnection::cleanup(void* data) {
  auto* self = static_cast<RedisConnection*>(data);
  if (self->watch_) self->port_.unwatch(self->watch_);
  self->watch_ = nullptr;
}

void RedisConnection::on_connect(const redisAsyncContext* ac, int status) {
  RedisConnection* self = owner_of(ac);
  if (status != REDIS_OK) {  // hiredis frees the context after this, without on_disconnect
    self->context_ = nullptr;
    self->lost(ac->errstr[0] ? ac->errstr : "cannot connect");
    return;
  }
  auto* context = const_cast<redisAsyncContext*>(ac);
  const RedisAddress& a = self->address_;
  if (!a.password.empty()) {
    if (a.user.empty())
      redisAsyncCommand(context, on_auth, nullptr, "AUTH %b", a.password.data(), a.password.size());
    else
      redisAsyncCommand(context, on_auth, nullptr, "AUTH %b %b", a.user.data(), a.user.size(), a.password.data(),
                        a.password.size());
    return;  // up once AUTH is accepted
  }
  self->select_then_up(context);
}

void RedisConnection::on_auth(redisAsyncContext* ac, void* r, void*) {
  RedisConnection* self = owner_of(ac);
  auto* reply = static_cast<redisReply*>(r);
  if (!reply || self->closing_) return;  // closing: on_disconnect says why
  if (reply->type == REDIS_REPLY_ERROR) {
    self->drop(std::string("AUTH refused: ") + reply->str);
    return;
  }
  self->select_then_up(ac);
}

void RedisConnection::select_then_up(redisAsyncContext* context) {
  if (address_.db == 0) return become_up();
  redisAsyncCommand(context, on_select, nullptr, "SELECT %d", address_.db);
}

void RedisConnection::on_select(redisAsyncContext* ac, void* r, void*) {
  RedisConnection* self = owner_of(ac);
  auto* reply = static_cast<redisReply*>(r);
  if (!reply || self->closing_) return;
  if (reply->type == REDIS_REPLY_ERROR) {
    self->drop(std::string("SELECT ") + std::to_string(self->address_.db) + " refused: " + reply->str);
    return;
  }
  self->become_up();
}

void RedisConnection::become_up() {
  state_ = State::Up;
  backoff_ms_ = 0;
  owner_.on_up(*this);
}

void RedisConnection::on_disconnect(const redisAsyncContext* ac, int) {
  RedisConnection* self = owner_of(ac);
  self->context_ = nullptr;  // hiredis frees it after this returns
  self->lost(ac->errstr[0] ? ac->errstr : "connection closed");
}

bool RedisConnection::check_alive(int64_t now_ms, int64_t deadline_ms, RedisConnection& partner) {
  if (state_ != State::Up) return false;
  if (ping_sent_ms_ == 0) {
    ping_sent_ms_ = now_ms;
    redisAsyncCommand(context_, on_pong, this, "PING");
    return true;
  }
  if (now_ms - ping_sent_ms_ < deadline_ms) return true;
  std::string why = "no answer to PING for " + std::to_string(deadline_ms / 1000) + " s";
  drop(why);
  partner.drop(why);
  return false;
}

void RedisConnection::on_pong(redisAsyncContext*, void* reply, void* privdata) {
  if (reply) static_cast<RedisConnection*>(privdata)->ping_sent_ms_ = 0;
}

void RedisConnection::drop(const std::string& why) {
  if (!context_) return;
  redisAsyncContext* ac = context_;
  std::string reason = why;
  bool was_closing = closing_;
  closing_ = true;  // our own on_disconnect is quiet; we report below
  redisAsyncFree(ac);
  closing_ = was_closing;
  context_ = nullptr;
  lost(reason);
}

void RedisConnection::lost(const std::string& why) {
  ping_sent_ms_ = 0;  // its PING went with it (answered null)
  if (closing_) return;
  if (state_ == State::Down) return;
  bool was_up = state_ == State::Up;
  if (was_up) metrics::count(metrics::Count::RedisLinksLost);
  state_ = State::Down;
  owner_.on_down(*this, why, was_up);
}

}  // namespace raptor::cluster
