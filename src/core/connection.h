// One client WebSocket as the engine sees it: identity, signed-in user, subscriptions, liveness,
// rate limit, and the bounded queue of frames waiting for the transport to write them.
// Owned by the Engine; used on the event-loop thread only.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/app.h"
#include "core/client_address_ledger.h"
#include "core/frame.h"
#include "core/frame_queue.h"
#include "core/policy.h"
#include "core/rate_limiter.h"
#include "core/subscription_list.h"

namespace raptor {

class Connection {
 public:
  Connection(const App& app, std::string socket_id, void* transport_handle, int64_t now_ms)
      : app_(app), socket_id_(std::move(socket_id)), handle_(transport_handle), opened_ms_(now_ms),
        last_seen_ms_(now_ms) {}
  ~Connection();  // its unsent bytes leave the process's total (core/send_queue_totals.h)
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  const App& app() const { return app_; }
  const std::string& socket_id() const { return socket_id_; }
  void* transport_handle() const { return handle_; }

  // --- outgoing queue, drained by the transport ---
  // Appends a frame; false when the queue would exceed `limit_bytes` (a slow consumer).
  // An empty queue always takes the frame, so one frame larger than the limit still goes out.
  bool enqueue(FramePtr frame, size_t limit_bytes);
  bool has_pending() const { return !queue_.empty(); }
  size_t queued_frames() const { return queue_.size(); }
  Frame* front() const { return queue_.front(); }
  Frame* at(size_t i) const { return queue_.at(i); }  // i < queued_frames()
  void pop_front();
  size_t queued_bytes() const { return queued_bytes_; }

  // --- closing: set by the engine, carried out by the transport once the queue is flushed ---
  void begin_close(int code, std::string reason, bool discard_queue);
  bool closing() const { return close_code_ != 0; }
  int close_code() const { return close_code_; }
  const std::string& close_reason() const { return *close_reason_; }  // when closing()

  // --- subscriptions ---
  SubscriptionList& subscriptions() { return subscriptions_; }
  const SubscriptionList& subscriptions() const { return subscriptions_; }
  bool subscribed(const std::string& channel) const { return subscriptions_.contains(channel); }

  // --- the user signed in with pusher:signin (null until then; allocated only then) ---
  struct User {
    std::string id;
    std::vector<std::string> watchlist;
    uint64_t watch_version = 0;  // the watchlist statuses it was given: see UserDirectory
  };
  const User* user() const { return user_.get(); }
  void sign_in(User user) {
    user_ = std::make_unique<User>(std::move(user));
    authorized_ = true;
  }
  // Signed in, or subscribed to a private or presence channel ("authorized connections").
  bool authorized() const { return authorized_; }
  void set_authorized() { authorized_ = true; }
  int64_t opened_ms() const { return opened_ms_; }

  // --- the WebSocket handshake, kept only when the policy's hooks need it later ---
  const Handshake* handshake() const { return handshake_.get(); }
  void keep_handshake(std::unique_ptr<const Handshake> h) { handshake_ = std::move(h); }

  // --- its place among its client address's connections, given back when it is deleted ---
  void keep_address_hold(ClientAddressLedger::Hold hold) { address_hold_ = std::move(hold); }

  // --- liveness ---
  void saw_activity(int64_t now_ms) {
    last_seen_ms_ = now_ms;
    ping_sent_ms_ = 0;
  }
  int64_t last_seen_ms() const { return last_seen_ms_; }
  int64_t ping_sent_ms() const { return ping_sent_ms_; }
  void ping_sent(int64_t now_ms) { ping_sent_ms_ = now_ms; }

  // Client-event rate limit over fixed one-second windows; true when this event is allowed.
  bool take_client_event_token(int64_t now_ms);
  // Subscribe rate limit (EngineLimits): true when this pusher:subscribe may go on.
  bool take_subscribe_token(int64_t now_ms, uint32_t per_second, uint32_t burst) {
    return subscribe_rate_.take(now_ms, per_second, burst);
  }

 private:
  const App& app_;
  std::string socket_id_;
  void* handle_;
  FrameQueue queue_;
  size_t queued_bytes_ = 0;
  int close_code_ = 0;
  std::unique_ptr<std::string> close_reason_;  // allocated on closing: most connections never hold one
  SubscriptionList subscriptions_;
  std::unique_ptr<User> user_;
  std::unique_ptr<const Handshake> handshake_;
  bool authorized_ = false;
  int64_t opened_ms_;
  int64_t last_seen_ms_;
  int64_t ping_sent_ms_ = 0;
  int64_t rate_window_start_ms_ = 0;
  int rate_window_count_ = 0;
  RateLimiter subscribe_rate_;
  ClientAddressLedger::Hold address_hold_;
};

}  // namespace raptor
