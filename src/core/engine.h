// The engine of one worker: its connections, their subscriptions and fan-out to them.
// Plain C++: the transport (net/) feeds it client frames and closes, and drains each
// connection's queue when woken through the Transport interface. Single-threaded: every call
// comes from the worker's own loop. What spans workers (counts, presence rosters, events for
// subscribers elsewhere) goes through the Hub.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/app.h"
#include "core/channel.h"
#include "core/connection.h"
#include "core/hub.h"

namespace raptor {

namespace messages {
struct ClientMessage;
}

struct EngineLimits {
  int activity_timeout_s = 120;  // advertised to clients; silence this long earns a ping
  int pong_timeout_s = 30;       // then silence this long closes with 4201
  size_t max_send_queue_bytes = 1 << 20;
};

// What the engine asks of the transport.
class Transport {
 public:
  virtual ~Transport() = default;
  // The connection has frames to write or a close to carry out.
  virtual void wake(Connection& c) = 0;
};

// Result of looking at a WebSocket request before admitting it.
struct Admission {
  const App* app = nullptr;  // set when admitted
  int close_code = 0;        // else the close code and why
  std::string reason;
};

class Engine {
 public:
  using Clock = std::function<int64_t()>;  // milliseconds, monotonic

  // `apps` and `hub` are shared by every worker and outlive the engine.
  Engine(const std::vector<App>& apps, EngineLimits limits, Transport& transport, Hub& hub, size_t worker,
         Clock clock = {});
  ~Engine();

  const App* app_by_key(std::string_view key) const;
  const App* app_by_id(std::string_view id) const;

  // --- WebSocket side ---
  // Decides on a request for `path` with the `protocol` query value (nullopt when absent).
  Admission admit(std::string_view path, std::optional<std::string_view> protocol) const;
  // A refused request: a connection that only carries the error and the close.
  Connection* open_refused(void* handle, const Admission& refusal);
  // An admitted connection; sends connection_established.
  Connection* open(const App& app, void* handle);
  void on_message(Connection& c, std::string_view text);
  void on_binary_message(Connection& c);
  void on_pong(Connection& c);  // a WebSocket-level pong or any other sign of life
  // The transport has closed the socket: leave every channel and forget (delete) the
  // connection. Called exactly once per connection.
  void on_closed(Connection* c);
  // Periodic work: pings and pong time-outs. Call about once a second.
  void tick();

  // An event from another worker, for this worker's subscribers.
  void deliver(const Delivery& d);

  // --- server side (HTTP API) ---
  // Sends an API event to a channel's subscribers, on every worker, except `except_socket_id`.
  void publish(const App& app, std::string_view channel, std::string_view event, std::string_view data,
               std::string_view except_socket_id);
  const ChannelDirectory& directory() const { return hub_.directory(); }

  size_t connection_count() const { return connections_.size(); }

 private:
  using Channels = std::unordered_map<std::string, std::unique_ptr<Channel>>;

  Channels& channels_of(const App& app) { return channels_[&app]; }
  std::string new_socket_id();
  Connection* add_connection(const App& app, void* handle);
  void send(Connection& c, FramePtr frame);
  void send(Connection& c, std::string_view text) { send(c, Frame::make(text)); }
  void send_error(Connection& c, int code, std::string_view message);
  void close(Connection& c, int code, std::string_view reason, bool discard_queue = false);

  void subscribe(Connection& c, const messages::ClientMessage& m);
  void refuse_subscription(Connection& c, std::string_view channel, std::string_view type, int status,
                           int code, std::string_view message);
  void unsubscribe(Connection& c, const std::string& channel);
  void client_event(Connection& c, const messages::ClientMessage& m);
  // Announces a presence change through every worker's mailbox (this one's too), so that all
  // see the changes of a channel in one order; see ChannelDirectory. A lone worker delivers it
  // at once.
  ChannelDirectory::Announce announcer(const App& app, const std::string& channel, std::string text,
                                       const Connection* except);
  // Sends an event to the channel's subscribers here and on the other workers.
  void broadcast(const App& app, const std::string& channel, std::string text, const Connection* except,
                 std::string_view except_socket_id = {});
  static Delivery delivery(const App& app, const std::string& channel, std::string text,
                           std::string except_socket_id, uint64_t roster_version);
  // Sends a frame to this worker's subscribers of `channel`; see ChannelDirectory for versions.
  void deliver_local(const App& app, const std::string& channel, std::string_view text,
                     const Connection* except, std::string_view except_socket_id, uint64_t roster_version);

  const std::vector<App>& apps_;
  EngineLimits limits_;
  Transport& transport_;
  Hub& hub_;
  size_t worker_;
  Clock clock_;
  std::mt19937_64 rng_;
  std::unordered_map<const App*, Channels> channels_;
  // By socket id; the key views the id inside the connection it maps to.
  std::unordered_map<std::string_view, std::unique_ptr<Connection>> connections_;
};

}  // namespace raptor
