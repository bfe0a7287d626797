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
    : address_(address), port_(port), owner_(owner) {
  if (!NameResolver::is_address(address_.host)) resolver_ = std::make_unique<NameResolver>(port_);
}

RedisConnection::~RedisConnection() {
  closing_ = true;
  if (context_) redisAsyncFree(context_);  // calls back: on_disconnect, then cleanup
}

void RedisConnection::tick(int64_t now_ms) {
  if (resolver_ && resolver_->busy()) resolver_->expire();
  if (state_ == State::Connecting && now_ms - attempt_ms_ >= kAttemptDeadlineMs)
    drop("not connected within " + std::to_string(kAttemptDeadlineMs / 1000) + " s");
  if (state_ == State::Down && now_ms >= retry_at_ms_) connect(now_ms);
}

void RedisConnection::connect(int64_t now_ms) {
  attempt_ms_ = now_ms;
  if (resolver_ && next_address_ < addresses_.size()) {  // the host's next address, at once
    retry_at_ms_ = now_ms + backoff_ms_;
    state_ = State::Connecting;
    if (auto why = open(addresses_[next_address_++])) lost(*why);  // the next tick tries the next
    return;
  }
  backoff_ms_ = backoff_ms_ == 0 ? kFirstRetryMs : std::min(backoff_ms_ * 2, kLongestRetryMs);
  retry_at_ms_ = now_ms + backoff_ms_;  // if this attempt fails
  state_ = State::Connecting;
  if (!resolver_) {
    if (auto why = open(address_.host)) lost(*why);
    return;
  }
  uint64_t ticket = resolver_->resolve(address_.host, [this](const std::vector<std::string>& addresses, const std::string& error) {
    lookup_ = 0;
    if (!error.empty()) return lost(NameResolver::failure(address_.host, error));
    addresses_ = addresses;
    next_address_ = 1;
    if (auto why = open(addresses_.front())) lost(*why);
  });
  if (resolver_->pending(ticket)) lookup_ = ticket;  // else answered already (a hosts-file entry)
}

std::optional<std::string> RedisConnection::open(const std::string& ip) {
  redisAsyncContext* ac = nullptr;
  if (address_.tls) {
    if (!tls_context_) {
      std::string error;
      tls_context_ = TlsTunnel::make_context({address_.ca_file, address_.verify}, error);
      if (!tls_context_) return error;
    }
    tunnel_ = std::make_unique<TlsTunnel>(port_, tls_context_, address_.host, address_.verify);
    std::string path = tunnel_->open(ip, address_.port);
    if (path.empty()) return tunnel_->error();
    ac = redisAsyncConnectUnix(path.c_str());
    if (ac && !ac->err && !tunnel_->accept_client()) {
      redisAsyncFree(ac);
      return tunnel_->error();
    }
  } else {
    ac = redisAsyncConnect(ip.c_str(), address_.port);
  }
  if (!ac) return std::string("out of memory");
  if (ac->err) {
    std::string why = ac->errstr;
    redisAsyncFree(ac);
    return why;
  }
  watch_ = port_.watch(ac->c.fd, *this);
  if (!watch_) {
    redisAsyncFree(ac);
    return std::string("the event loop refused the socket (out of file descriptors?)");
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
  return std::nullopt;
}

std::string RedisConnection::why_closed(const redisAsyncContext* ac) const {
  if (tunnel_ && !tunnel_->error().empty()) return tunnel_->error();
  return ac->errstr[0] ? ac->errstr : "connection closed";
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
    self->lost(self->why_closed(ac));
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
  // Over TLS hiredis is connected to the tunnel at once; SELECT's answer shows Redis is reached.
  if (address_.db == 0 && !address_.tls) return become_up();
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
  next_address_ = addresses_.size();  // once lost, the name is looked up again
  backoff_ms_ = 0;
  owner_.on_up(*this);
}

void RedisConnection::on_disconnect(const redisAsyncContext* ac, int) {
  RedisConnection* self = owner_of(ac);
  self->context_ = nullptr;  // hiredis frees it after this returns
  self->lost(self->why_closed(ac));
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
  if (lookup_) {  // still looking the name up
    resolver_->cancel(lookup_);
    lookup_ = 0;
    return lost(why);
  }
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
  if (!was_up && next_address_ < addresses_.size()) retry_at_ms_ = attempt_ms_;  // the next address, at the next tick
  owner_.on_down(*this, why, was_up);
}

}  // namespace raptor::cluster
