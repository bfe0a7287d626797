// HTTP requests: collect method, path, query and body, run the API, write the JSON response.
#include <libwebsockets.h>

#include <chrono>
#include <ctime>
#include <memory>
#include <vector>

#include "common/log.h"
#include "common/log_rate_limit.h"
#include "http/api.h"
#include "net/server.h"

namespace raptor::net {

struct HttpExchange {
  http::Request request;
  bool too_large = false;
  uint64_t awaiting = 0;  // the answer's number while it is being computed (see Worker::await_answer)
  bool answered = false;  // `response` is ready, waiting for the socket to be writable
  bool close_after = false;
  http::Response response;
};

namespace {

constexpr size_t kMaxDiscardedBodyBytes = 16 << 20;
constexpr uint32_t kRefusalLinesPerSecond = 10;  // per worker (docs/security.md#logs)

// "http GET /path -> 404", at most kRefusalLinesPerSecond a second on each worker: whoever can
// send requests could otherwise fill the disk with them.
void log_refusal(const http::Request& request, int status) {
  thread_local log::RateLimit limit(kRefusalLinesPerSecond);
  auto now = std::chrono::steady_clock::now().time_since_epoch();
  uint64_t held_back = 0;
  if (!limit.allow(std::chrono::duration_cast<std::chrono::milliseconds>(now).count(), held_back)) return;
  if (held_back)
    log::info("http: %llu more requests answered with errors were not logged (over %u a second)",
              static_cast<unsigned long long>(held_back), kRefusalLinesPerSecond);
  log::info("http %s %s -> %d", log::for_log(request.method, 16).c_str(), log::for_log(request.path).c_str(), status);
}

std::string method_of(lws* wsi) {
  static const struct {
    enum lws_token_indexes token;
    const char* name;
  } kMethods[] = {{WSI_TOKEN_GET_URI, "GET"},         {WSI_TOKEN_POST_URI, "POST"},
                  {WSI_TOKEN_PUT_URI, "PUT"},         {WSI_TOKEN_DELETE_URI, "DELETE"},
                  {WSI_TOKEN_PATCH_URI, "PATCH"},     {WSI_TOKEN_OPTIONS_URI, "OPTIONS"},
                  {WSI_TOKEN_HEAD_URI, "HEAD"}};
  for (const auto& m : kMethods)
    if (lws_hdr_total_length(wsi, m.token) > 0) return m.name;
  return "GET";
}

// lws hands over the query already split at '&' and URL-decoded, one fragment per parameter. A
// decoded NUL stays in the value (http/query_form.h refuses it) rather than cutting it short.
std::vector<std::pair<std::string, std::string>> query_of(lws* wsi) {
  std::vector<std::pair<std::string, std::string>> out;
  std::vector<char> buf(size_t(lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_URI_ARGS)) + 1);
  int length;
  for (int n = 0; (length = lws_hdr_copy_fragment(wsi, buf.data(), int(buf.size()), WSI_TOKEN_HTTP_URI_ARGS, n)) >= 0;
       ++n) {
    std::string item(buf.data(), size_t(length));
    size_t eq = item.find('=');
    if (eq == std::string::npos)
      out.emplace_back(item, "");
    else
      out.emplace_back(item.substr(0, eq), item.substr(eq + 1));
  }
  return out;
}

// An HTTP/1 response head (lws writes HTTP/2 heads as HPACK instead).
bool is_http1_head(const unsigned char* start, const unsigned char* end) {
  static const char kVersion[] = "HTTP/1.";
  return size_t(end - start) > sizeof kVersion && memcmp(start, kVersion, sizeof kVersion - 1) == 0;
}

long content_length(lws* wsi) {
  char buf[32];
  if (lws_hdr_copy(wsi, buf, sizeof buf, WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0) return -1;
  return strtol(buf, nullptr, 10);
}

// Writes the prepared response; in HTTP_WRITEABLE only, which also completes the transaction:
// the client cannot send its next request on this connection before it has the answer, so unread
// input found now is a pipelined request, which libwebsockets 4.1 mis-reads (it takes the bytes
// after the headers of the first pipelined request for its body). Such a connection is answered
// once, told so and closed; HTTP/1.1 clients resend what was not answered, and no Pusher SDK
// pipelines. lws only tells whether any socket of this worker holds unread input: rarely another
// one's, which then costs this keep-alive client a reconnect and no data.
// While the node drains, every answer closes its connection: the client's next request goes
// through the load balancer to another node.
int write_response(Worker& worker, lws* wsi, Session* s) {
  std::unique_ptr<HttpExchange> x(s->http);
  s->http = nullptr;
  worker.http_exchange_ended();
  const http::Response& r = x->response;
  bool close = x->close_after || worker.engine().draining() ||
               lws_service_adjust_timeout(lws_get_context(wsi), 1, 0) == 0;
  size_t extra = 0;
  for (const auto& [name, value] : r.headers) extra += name.size() + value.size() + 4;
  std::vector<unsigned char> buf(LWS_PRE + 512 + extra + r.body.size());
  unsigned char *start = buf.data() + LWS_PRE, *p = start, *end = buf.data() + buf.size();
  static const char kClose[] = "close";
  if (lws_add_http_common_headers(wsi, unsigned(r.status), "application/json", r.body.size(), &p, end)) return -1;
  for (const auto& [name, value] : r.headers) {
    std::string field = name + ":";  // lws writes the name as given
    if (lws_add_http_header_by_name(wsi, reinterpret_cast<const unsigned char*>(field.c_str()),
                                    reinterpret_cast<const unsigned char*>(value.data()), int(value.size()), &p, end))
      return -1;
  }
  if (close && lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION, reinterpret_cast<const unsigned char*>(kClose),
                                            int(sizeof kClose - 1), &p, end))
    return -1;
  if (lws_finalize_http_header(wsi, &p, end)) return -1;
  if (is_http1_head(start, p) && size_t(end - p) >= r.body.size()) {
    // Head and body in one send: one segment, one wake-up of the client, instead of two
    // (lws's HTTP/1 write only hands the bytes to the socket). The buffer holds both unless the
    // head outgrew its 512 bytes.
    memcpy(p, r.body.data(), r.body.size());
    int n = int(p - start + r.body.size());
    if (lws_write(wsi, start, size_t(n), LWS_WRITE_HTTP_FINAL) != n) return -1;
  } else {  // HTTP/2: the head is a HEADERS frame of its own
    if (lws_write(wsi, start, size_t(p - start), LWS_WRITE_HTTP_HEADERS) != int(p - start)) return -1;
    memcpy(start, r.body.data(), r.body.size());
    if (lws_write(wsi, start, r.body.size(), LWS_WRITE_HTTP_FINAL) != int(r.body.size())) return -1;
  }
  if (close) return -1;
  return lws_http_transaction_completed(wsi) ? -1 : 0;
}

// Computes the answer to the request; Worker::answered() takes it, now or (a cluster read) later.
int answer(Worker& worker, lws* wsi, Session* s) {
  HttpExchange* x = s->http;
  uint64_t id = x->awaiting = worker.await_answer(wsi);
  if (x->too_large)
    worker.answered(id, http::error(413, "Request body is larger than 1 MiB"));
  else
    http::handle(worker.engine(), x->request, time(nullptr),
                 [&worker, id](http::Response r) { worker.answered(id, std::move(r)); });
  return 0;
}

// The exchange is over (closed, or replaced by the connection's next request): an answer still
// being computed for it goes nowhere.
void end_exchange(Worker& worker, Session* s) {
  if (s->http && s->http->awaiting) worker.forget_answer(s->http->awaiting);
  delete s->http;
  s->http = nullptr;
}

}  // namespace

// Returns 1 for reasons it does not handle.
int on_http(Worker& worker, lws* wsi, int reason, Session* s, void* in, size_t len) {
  switch (reason) {
    case LWS_CALLBACK_HTTP: {
      if (!s->http) worker.http_exchange_began();  // else a new request replaces an unanswered one
      end_exchange(worker, s);
      s->http = new HttpExchange();
      http::Request& req = s->http->request;
      req.method = method_of(wsi);
      req.path = static_cast<const char*>(in);
      req.query = query_of(wsi);
      long length = content_length(wsi);
      s->http->too_large = length > long(http::kMaxBodyBytes);
      if (length > long(kMaxDiscardedBodyBytes)) {
        // Answered before the body arrives, and closed rather than read it all.
        s->http->close_after = true;
        return answer(worker, wsi, s);
      }
      if (length <= 0) return answer(worker, wsi, s);
      // The body follows in HTTP_BODY. One over the limit is read and dropped, and answered 413
      // once complete: a client still sending would get a reset instead of an early answer, and
      // libwebsockets 4.1's own discarding of an unread body hangs the worker on keep-alive.
      return 0;
    }
    case LWS_CALLBACK_HTTP_BODY:
      if (!s->http || s->http->answered) return 0;
      if (s->http->too_large || s->http->request.body.size() + len > http::kMaxBodyBytes) {
        s->http->too_large = true;  // dropped: answered 413 when the body is complete
        s->http->request.body.clear();
      } else {
        s->http->request.body.append(static_cast<const char*>(in), len);
      }
      return 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
      if (!s->http) return -1;
      // libwebsockets repeats this callback while a pipelined request waits behind the body
      // (on its poll loop; on libev the socket turns writable first): see write_response.
      if (s->http->answered || s->http->awaiting) {
        s->http->close_after = true;
        return 0;
      }
      return answer(worker, wsi, s);
    case LWS_CALLBACK_HTTP_WRITEABLE:
      return s->http && s->http->answered ? write_response(worker, wsi, s) : 0;
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
    case LWS_CALLBACK_CLOSED_HTTP:
      if (s->http) worker.http_exchange_ended();
      end_exchange(worker, s);
      return 1;
    default:
      return 1;
  }
}

uint64_t Worker::await_answer(lws* wsi) {
  uint64_t id = ++answers_begun_;
  awaiting_answers_.emplace(id, wsi);
  return id;
}

void Worker::answered(uint64_t id, http::Response response) {
  auto it = awaiting_answers_.find(id);
  if (it == awaiting_answers_.end()) return;  // the client has gone
  lws* wsi = it->second;
  awaiting_answers_.erase(it);
  HttpExchange* x = static_cast<Session*>(lws_wsi_user(wsi))->http;
  x->awaiting = 0;
  x->response = std::move(response);
  if (x->response.status >= 400) log_refusal(x->request, x->response.status);
  x->answered = true;
  lws_callback_on_writable(wsi);
  http_answer_waiting();
}

void Worker::forget_answer(uint64_t id) { awaiting_answers_.erase(id); }

}  // namespace raptor::net
