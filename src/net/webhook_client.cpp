#include "net/webhook_client.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "common/log.h"
#include "net/event_port.h"
#include "net/worker.h"

namespace raptor::net {

struct WebhookClient::Exchange {
  WebhookClient* client;
  uint64_t id;
  int64_t deadline_ms;  // the whole POST, connect to answer
  std::string host, address, path;  // kept here: a reload may replace the endpoint while lws connects
  std::string host_header;
  int port = 80;
  bool tls = false;
  bool verify_tls = true;
  std::string ca_file;  // empty: the system's CAs
  uint64_t lookup = 0;  // the host name's lookup under way (its ticket)
  webhook_body::Headers headers;
  std::vector<unsigned char> body;  // LWS_PRE bytes of headroom, then the body
  lws* wsi = nullptr;
  int status = 0;
  bool reported = false;
  bool timed_out = false;
};

namespace {

constexpr const char* kProtocol = "raptor-webhook";

// The client's pointer, kept as the protocol's per-vhost data.
WebhookClient* client_of(lws* wsi) {
  auto* slot = static_cast<WebhookClient**>(lws_protocol_vh_priv_get(lws_get_vhost(wsi), lws_get_protocol(wsi)));
  return slot ? *slot : nullptr;
}

int add_header(lws* wsi, const std::string& name, const std::string& value, unsigned char** p, unsigned char* end) {
  std::string with_colon = name + ":";
  return lws_add_http_header_by_name(wsi, reinterpret_cast<const unsigned char*>(with_colon.c_str()),
                                     reinterpret_cast<const unsigned char*>(value.data()), int(value.size()), p, end);
}

// The timer's wsi (a raw file) and the vhost-wide wake-up; no Exchange.
int on_vhost_event(lws* wsi, enum lws_callback_reasons reason) {
  WebhookClient* client = client_of(wsi);
  if (!client) return 0;
  if (reason == LWS_CALLBACK_EVENT_WAIT_CANCELLED) {
    client->woken();
  } else if (reason == LWS_CALLBACK_RAW_RX_FILE) {
    uint64_t expirations;
    if (read(lws_get_socket_fd(wsi), &expirations, sizeof expirations) == sizeof expirations) client->pump();
  }
  return 0;
}

// Why the receiver's certificate was refused, in OpenSSL's words ("certificate has expired",
// "hostname mismatch", "self-signed certificate", …); nothing when it was not. lws itself only
// says "connect SSL err 1".
std::optional<std::string> certificate_refusal(lws* wsi) {
  SSL* ssl = lws_get_ssl(wsi);
  long result = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
  if (result == X509_V_OK) return std::nullopt;
  return std::string("TLS certificate refused: ") + X509_verify_cert_error_string(result);
}

int on_client(lws* wsi, enum lws_callback_reasons reason, void* user, void* in, size_t len) {
  if (reason == LWS_CALLBACK_EVENT_WAIT_CANCELLED || reason == LWS_CALLBACK_RAW_RX_FILE)
    return on_vhost_event(wsi, reason);
  auto* x = static_cast<WebhookClient::Exchange*>(user);
  if (!x) return lws_callback_http_dummy(wsi, reason, user, in, len);
  switch (reason) {
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: {
      auto** p = static_cast<unsigned char**>(in);
      unsigned char* end = *p + len;
      for (const auto& [name, value] : x->headers)
        if (add_header(wsi, name, value, p, end)) return -1;
      if (add_header(wsi, "Content-Length", std::to_string(x->body.size() - LWS_PRE), p, end)) return -1;
      lws_client_http_body_pending(wsi, 1);
      lws_callback_on_writable(wsi);
      return 0;
    }
    case LWS_CALLBACK_CLIENT_HTTP_WRITEABLE: {
      lws_client_http_body_pending(wsi, 0);
      size_t n = x->body.size() - LWS_PRE;
      return lws_write(wsi, x->body.data() + LWS_PRE, n, LWS_WRITE_HTTP_FINAL) == int(n) ? 0 : -1;
    }
    case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP:
      x->status = int(lws_http_client_http_response(wsi));
      return 0;
    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP: {  // the answer's body is read and ignored
      char buf[LWS_PRE + 1024];
      char* p = buf + LWS_PRE;
      int n = sizeof buf - LWS_PRE;
      return lws_http_client_read(wsi, &p, &n) < 0 ? -1 : 0;
    }
    case LWS_CALLBACK_COMPLETED_CLIENT_HTTP:
      x->client->report(*x, x->status, nullptr);
      return -1;  // one POST per connection
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
      std::string why = in ? static_cast<const char*>(in) : "cannot connect";
      if (x->tls) why = certificate_refusal(wsi).value_or(why);
      x->client->report(*x, 0, why.c_str());
      return 0;
    }
    case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
      x->client->report(*x, 0, "connection closed before a complete answer");
      return 0;
    case LWS_CALLBACK_WSI_DESTROY:
      x->client->forget(*x);
      return 0;
    default:
      return lws_callback_http_dummy(wsi, reason, user, in, len);
  }
}

const lws_protocols kProtocols[] = {
    {kProtocol, on_client, 0, 0, 0, nullptr, 0},
    {nullptr, nullptr, 0, 0, 0, nullptr, 0},
};

}  // namespace

WebhookClient::WebhookClient(SenderLink& queue, const WebhookSettings& settings)
    : queue_(queue), settings_(settings) {}

WebhookClient::~WebhookClient() = default;

// The vhost of plain http:// POSTs, or of https:// ones trusting the system's CA certificates
// (`ca_file` empty) or only those of `ca_file`: only a TLS one loads CA certificates, which
// takes a while (seconds under ASan), so it is made when first needed.
lws_vhost* WebhookClient::make_vhost(bool tls, const std::string& ca_file) {
  lws_context_creation_info info;
  memset(&info, 0, sizeof info);
  info.port = CONTEXT_PORT_NO_LISTEN;
  vhost_names_.push_back(!tls ? "raptor-webhooks" : "raptor-webhooks-tls-" + std::to_string(tls_vhosts_.size()));
  info.vhost_name = vhost_names_.back().c_str();
  info.protocols = kProtocols;
  if (tls) info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;  // the client's TLS context
  if (!ca_file.empty()) {
    info.client_ssl_ca_filepath = ca_file.c_str();
    info.options |= LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;  // that CA alone, as curl's --cacert
  }
  lws_vhost* vhost = lws_create_vhost(context_, &info);
  if (vhost)
    *static_cast<WebhookClient**>(lws_protocol_vh_priv_zalloc(vhost, &kProtocols[0], sizeof(WebhookClient*))) = this;
  return vhost;
}

bool WebhookClient::start(Worker& worker, bool tls_now, cluster::WebhookStream* stream) {
  worker_ = &worker;
  stream_ = stream;
  context_ = worker.context();
  vhost_ = make_vhost(false, {});
  if (vhost_ && tls_now) tls_vhost({});
  port_ = std::make_unique<LwsEventPort>(lws_get_vhost_by_name(context_, "default"));
  resolver_ = std::make_unique<NameResolver>(*port_);
  timer_fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  lws_sock_file_fd_type desc;
  desc.filefd = timer_fd_;
  if (!vhost_ || timer_fd_ < 0 || !lws_adopt_descriptor_vhost(vhost_, LWS_ADOPT_RAW_FILE_DESC, desc, kProtocol, nullptr)) {
    log::error("cannot start the webhook client: %s", vhost_ ? strerror(errno) : "no vhost");
    if (timer_fd_ >= 0) close(timer_fd_);
    return false;
  }
  queue_.on_wakeup([this] {
    wake_requested_ = true;
    worker_->interrupt();
  });
  arm(0);  // events may have been emitted already
  return true;
}

void WebhookClient::stop() {
  queue_.on_wakeup({});
  stopped_ = true;
  disarm();
  resolver_.reset();  // while worker 0's loop, where its sockets wait, still exists
}

void WebhookClient::woken() {
  if (wake_requested_.exchange(false)) arm(0);
}

void WebhookClient::arm(int64_t ms) {
  itimerspec when{};
  int64_t ns = ms > 0 ? ms * 1000000 : 1;  // zero would disarm it
  when.it_value.tv_sec = ns / 1000000000;
  when.it_value.tv_nsec = ns % 1000000000;
  timerfd_settime(timer_fd_, 0, &when, nullptr);
}

void WebhookClient::disarm() {
  itimerspec never{};
  if (timer_fd_ >= 0) timerfd_settime(timer_fd_, 0, &never, nullptr);
}

void WebhookClient::pump() {
  if (stopped_) return;
  // The shape_webhook hook runs here, in worker 0's VM, on worker 0's thread (its owner).
  queue_.shape(worker_->engine().policy());
  if (stream_) stream_->flush();  // events ready to go into the stream, acknowledgements out of it
  int64_t now = queue_.now();
  std::vector<lws*> overdue;
  std::vector<Exchange*> unresolved;
  resolver_->expire();  // c-ares's own retries and timeouts
  for (auto& [x, owned] : exchanges_)
    if (!x->reported && x->deadline_ms <= now) {
      x->timed_out = true;
      if (x->wsi) overdue.push_back(x->wsi);
      if (x->lookup) unresolved.push_back(x);
    }
  // Closing reports and forgets the exchange; nothing else runs meanwhile.
  for (lws* wsi : overdue) lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);
  for (Exchange* x : unresolved) {
    resolver_->cancel(x->lookup);
    x->timed_out = false;
    std::string why = NameResolver::failure(x->host, "no answer within " + std::to_string(settings_.timeout_ms) + " ms");
    report(*x, 0, why.c_str());
    exchanges_.erase(x);
  }
  for (WebhookRequest& r : queue_.take_ready()) send(std::move(r));
  int64_t due = queue_.next_due();
  for (auto& [x, owned] : exchanges_)
    if (!x->reported && x->deadline_ms < due) due = x->deadline_ms;
  if (int64_t lookup_ms = resolver_->next_timeout_ms(); lookup_ms >= 0) due = std::min(due, now + lookup_ms);
  if (due == INT64_MAX)
    disarm();
  else
    arm(due - now);
}

void WebhookClient::send(WebhookRequest r) {
  const WebhookEndpoint& to = *r.endpoint;
  auto owned = std::make_unique<Exchange>();
  Exchange* x = owned.get();
  x->client = this;
  x->id = r.id;
  x->deadline_ms = queue_.now() + settings_.timeout_ms;
  std::string host = to.host.find(':') == std::string::npos ? to.host : "[" + to.host + "]";
  x->host_header = to.port == (to.tls ? 443 : 80) ? host : host + ":" + std::to_string(to.port);
  x->host = to.host;
  x->address = to.host;
  x->port = to.port;
  x->tls = to.tls;
  x->verify_tls = to.verify_tls;
  x->ca_file = to.ca_file;
  x->path = to.path;
  x->headers = std::move(r.headers);
  x->body.resize(LWS_PRE);
  x->body.insert(x->body.end(), r.body.begin(), r.body.end());
  exchanges_.emplace(x, std::move(owned));
  if (NameResolver::is_address(x->host)) return connect(*x);
  // Looked up again for every POST: a receiver that moves is followed at its next POST.
  uint64_t ticket = resolver_->resolve(x->host, [this, x](const std::vector<std::string>& addresses, const std::string& error) {
    x->lookup = 0;
    if (!error.empty()) {
      report(*x, 0, NameResolver::failure(x->host, error).c_str());
      exchanges_.erase(x);
      return;
    }
    x->address = addresses.front();  // the first in RFC 6724 order, as getaddrinfo would pick
    connect(*x);
  });
  if (resolver_->pending(ticket)) x->lookup = ticket;  // else answered already: `x` may be gone
}

void WebhookClient::connect(Exchange& exchange) {
  Exchange* x = &exchange;
  lws_client_connect_info i;
  memset(&i, 0, sizeof i);
  i.context = context_;
  i.vhost = x->tls ? tls_vhost(x->ca_file) : vhost_;
  if (!i.vhost) {
    report(*x, 0, "cannot set up the TLS client");
    exchanges_.erase(x);
    return;
  }
  i.address = x->address.c_str();
  i.port = x->port;
  i.ssl_connection = (x->tls ? LCCSCF_USE_SSL : 0) | LCCSCF_HTTP_NO_FOLLOW_REDIRECT;
  // verify_tls off (config/webhook_spec.h): a self-signed, untrusted, expired or other host's
  // certificate is taken. Otherwise lws checks the chain and the name (SNI is the same name).
  if (x->tls && !x->verify_tls)
    i.ssl_connection |= LCCSCF_ALLOW_SELFSIGNED | LCCSCF_ALLOW_INSECURE | LCCSCF_ALLOW_EXPIRED |
                        LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK;
  i.path = x->path.c_str();
  i.host = x->host_header.c_str();
  i.origin = x->host_header.c_str();
  i.method = "POST";
  i.protocol = kProtocol;
  i.local_protocol_name = kProtocol;
  i.alpn = "http/1.1";
  i.userdata = x;
  lws* wsi = lws_client_connect_via_info(&i);
  auto it = exchanges_.find(x);  // lws may have failed and destroyed it already
  if (it == exchanges_.end()) return;
  if (wsi) {
    x->wsi = wsi;
    return;
  }
  report(*x, 0, "cannot start the connection");
  exchanges_.erase(it);
}

lws_vhost* WebhookClient::tls_vhost(const std::string& ca_file) {
  auto it = tls_vhosts_.find(ca_file);
  if (it != tls_vhosts_.end()) return it->second;
  lws_vhost* vhost = make_vhost(true, ca_file);
  if (vhost) tls_vhosts_.emplace(ca_file, vhost);
  return vhost;
}

void WebhookClient::report(Exchange& x, int status, const char* error) {
  if (x.reported) return;
  x.reported = true;
  if (stopped_) return;
  std::string why = x.timed_out ? "no complete answer within " + std::to_string(settings_.timeout_ms) + " ms"
                                : std::string(error ? error : "");
  queue_.finish(x.id, status, why);
  arm(0);  // the next batch, or the retry's time
}

void WebhookClient::forget(Exchange& x) {
  report(x, 0, "connection closed before a complete answer");
  exchanges_.erase(&x);
}

}  // namespace raptor::net
