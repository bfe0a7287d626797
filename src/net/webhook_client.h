// Sends the webhook queue's POSTs with the libwebsockets HTTP client, on worker 0's event loop: a
// client-only vhost in that worker's context, so requests never block and never touch the
// Pusher vhost. One connection per POST (no keep-alive: receivers are few and POSTs are batched).
// A receiver named by host name is looked up before each POST by a NameResolver on the same loop
// (lws 4.1 would call a blocking getaddrinfo); lws then connects to the address and sends the
// name as Host, TLS SNI and the name the certificate is checked against.
// Its timer is a timerfd watched by that loop, not an lws_sul: under the libev loop lws 4.1 does
// not bring its timer forward for a sooner sul, so a 50 ms sul could fire up to a second late.
// Thread use: start() and stop() on the main thread while the worker does not serve; everything
// else on worker 0's thread. Other workers reach it only through the queue's emit()
// (core/webhook_sink.h), whose wake-up interrupts worker 0's loop.
#pragma once
#include <libwebsockets.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include "cluster/webhook_stream.h"
#include "common/name_resolver.h"
#include "webhooks/sender_link.h"
#include "webhooks/webhook_settings.h"

namespace raptor::net {

class Worker;
class LwsEventPort;

class WebhookClient {
 public:
  WebhookClient(SenderLink& queue, const WebhookSettings& settings);
  ~WebhookClient();
  WebhookClient(const WebhookClient&) = delete;
  WebhookClient& operator=(const WebhookClient&) = delete;

  // Creates the vhost and the timer in `worker`'s context and hooks the queue's wake-up to it;
  // false (logged) when it cannot. `tls_now`: https:// receivers are configured, so the TLS
  // client is set up at once rather than at the first https POST. `stream`: in a cluster, the
  // Redis stream (on the same worker) that events pass through; flushed at each pump.
  bool start(Worker& worker, bool tls_now, cluster::WebhookStream* stream);
  // The workers have stopped: no more wake-ups, and what is in flight is not reported.
  void stop();

  // Worker 0's thread, from here on.
  // The timer fired: ends overdue POSTs, sends what is due, sets the timer for what is next.
  void pump();
  // Worker 0's loop was interrupted: pump soon if the queue asked for it.
  void woken();
  // Pump at the next loop pass (the stream brought entries).
  void pump_soon() { arm(0); }

  struct Exchange;  // one POST
  // How exchange `x` ended (the first report counts).
  void report(Exchange& x, int status, const char* error);
  // lws is done with the exchange's connection.
  void forget(Exchange& x);

 private:
  void send(WebhookRequest request);
  void connect(Exchange& x);  // to x.address, an IP address
  lws_vhost* make_vhost(bool tls, const std::string& ca_file);
  // The vhost of https:// POSTs trusting `ca_file` ("": the system's CAs), made at first use;
  // null when it cannot be. A CA file is read once: a changed one needs a restart.
  lws_vhost* tls_vhost(const std::string& ca_file);
  void arm(int64_t ms);  // the timer fires in `ms` (at once when <= 0)
  void disarm();

  SenderLink& queue_;
  const WebhookSettings& settings_;
  Worker* worker_ = nullptr;
  cluster::WebhookStream* stream_ = nullptr;
  lws_context* context_ = nullptr;
  lws_vhost* vhost_ = nullptr;      // http:// POSTs and the timer
  std::map<std::string, lws_vhost*> tls_vhosts_;  // https:// POSTs by CA file, made when first needed
  std::deque<std::string> vhost_names_;  // lws keeps a vhost's name as the pointer it was given
  std::unique_ptr<LwsEventPort> port_;  // the resolver's sockets, on worker 0's loop
  std::unique_ptr<NameResolver> resolver_;
  int timer_fd_ = -1;  // owned by lws once adopted
  std::atomic<bool> wake_requested_{false};
  bool stopped_ = false;
  std::unordered_map<Exchange*, std::unique_ptr<Exchange>> exchanges_;
};

}  // namespace raptor::net
