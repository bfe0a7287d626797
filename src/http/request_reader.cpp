#include "http/request_reader.h"

#include <http_parser.h>
#include <strings.h>

#include <algorithm>
#include <climits>
#include <cstring>


namespace raptor::http {
namespace {

bool equals_ignoring_case(const std::string& a, const char* b) { return strcasecmp(a.c_str(), b) == 0; }

// Whether the comma-separated `list` holds `token` (any case): "Upgrade: websocket", "keep-alive, Upgrade".
bool has_token(const std::string& list, const char* token) {
  size_t n = strlen(token), at = 0;
  while (at <= list.size()) {
    size_t end = list.find(',', at);
    if (end == std::string::npos) end = list.size();
    size_t b = list.find_first_not_of(" \t", at), e = end;
    while (e > b && (list[e - 1] == ' ' || list[e - 1] == '\t')) --e;
    if (b < e && e - b == n && strncasecmp(list.data() + b, token, n) == 0) return true;
    at = end + 1;
  }
  return false;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// %xx-decodes `in`; '+' becomes a space where `plus_is_space` (the query's form encoding). Runs
// without escapes are copied whole: a signed API query is mostly such runs.
bool decode(std::string_view in, bool plus_is_space, std::string& out) {
  out.clear();
  out.reserve(in.size());
  size_t i = 0;
  while (i < in.size()) {
    size_t run = i;
    while (run < in.size() && in[run] != '%' && !(plus_is_space && in[run] == '+')) ++run;
    out.append(in.data() + i, run - i);
    if (run == in.size()) break;
    if (in[run] == '+') {
      out += ' ';
      i = run + 1;
      continue;
    }
    int hi = run + 2 < in.size() ? hex_digit(in[run + 1]) : -1;
    int lo = hi >= 0 ? hex_digit(in[run + 2]) : -1;
    if (lo < 0) return false;
    out += char(hi << 4 | lo);
    i = run + 3;
  }
  return true;
}

// A field's value added to what earlier fields of the same name gave, as one list (RFC 9110 §5.3).
void append_to_list(std::string& list, const std::string& value) {
  if (!list.empty()) list += ',';
  list += value;
}

}  // namespace

bool split_target(const std::string& target, Request& out) {
  out.path.clear();
  out.query.clear();
  if (target == "*") {  // OPTIONS *: the server as a whole
    out.path = target;
    return true;
  }
  std::string_view path, query;
  if (target.compare(0, 1, "/") == 0) {
    // Origin form, what every client sends: the parser has checked its characters already, so
    // it only needs splitting (the library's URL parser would walk it again, char by char).
    std::string_view rest = std::string_view(target).substr(0, target.find('#'));
    size_t mark = rest.find('?');
    path = rest.substr(0, mark);
    if (mark != std::string_view::npos) query = rest.substr(mark + 1);
  } else {  // absolute form (http://host/path?query), which proxies may send
    http_parser_url url;
    http_parser_url_init(&url);
    if (http_parser_parse_url(target.data(), target.size(), 0, &url)) return false;
    auto field = [&](int f) {
      return url.field_set & (1 << f) ? std::string_view(target).substr(url.field_data[f].off, url.field_data[f].len)
                                      : std::string_view();
    };
    path = field(UF_PATH);
    query = field(UF_QUERY);
  }
  if (path.empty()) path = "/";
  if (!decode(path, false, out.path) || out.path.find('\0') != std::string::npos) return false;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view item = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (item.empty()) continue;
    size_t eq = item.find('=');
    std::string name, value;
    if (!decode(item.substr(0, eq), true, name)) return false;
    if (eq != std::string_view::npos && !decode(item.substr(eq + 1), true, value)) return false;
    out.query.emplace_back(std::move(name), std::move(value));
  }
  return true;
}

// The parser's callbacks: they fill the reader and pause the parser where the reader must report.
struct ReaderCallbacks {
  static RequestReader& of(http_parser* p) { return *static_cast<RequestReader*>(p->data); }

  static void end_field(RequestReader& r) {
    if (!r.in_value_) return;
    if (equals_ignoring_case(r.field_, "expect")) {
      r.expectation_ = r.value_;
    } else if (equals_ignoring_case(r.field_, "upgrade")) {
      r.websocket_ = has_token(r.value_, "websocket");
    } else if (equals_ignoring_case(r.field_, "x-forwarded-for")) {
      append_to_list(r.request_.x_forwarded_for, r.value_);
    } else if (equals_ignoring_case(r.field_, "forwarded")) {
      append_to_list(r.request_.forwarded, r.value_);
    } else if (equals_ignoring_case(r.field_, "authorization")) {
      r.request_.authorization = r.value_;
    }
    r.field_.clear();
    r.value_.clear();
    r.in_value_ = false;
  }

  static bool grow_head(RequestReader& r, size_t n) {
    r.head_bytes_ += n;
    return r.head_bytes_ <= r.limits_.max_head;
  }

  static int message_begin(http_parser* p) {
    RequestReader& r = of(p);
    r.request_ = Request{};
    r.target_.clear();
    r.field_.clear();
    r.value_.clear();
    r.expectation_.clear();
    r.in_value_ = r.websocket_ = r.refused_ = r.headers_done_ = false;
    r.fields_ = r.head_bytes_ = r.body_seen_ = 0;
    r.began_ = true;
    return 0;
  }
  static int url(http_parser* p, const char* at, size_t n) {
    RequestReader& r = of(p);
    r.target_.append(at, n);
    if (r.target_.size() > r.limits_.max_target) return r.overflow(414, "Request target is longer than the limit");
    return grow_head(r, n) ? 0 : r.overflow(431, "Request header fields are larger than the limit");
  }
  static int header_field(http_parser* p, const char* at, size_t n) {
    RequestReader& r = of(p);
    if (r.headers_done_) return 0;  // a chunked body's trailer: nothing in it is read
    if (r.in_value_) end_field(r);
    bool first_piece = r.field_.empty();  // a name may come in several pieces: count it once
    if (first_piece && ++r.fields_ > r.limits_.max_fields) return r.overflow(431, "Too many request header fields");
    r.field_.append(at, n);
    // 4: the ": " and CRLF around the value, so that the limit is on what was sent.
    return grow_head(r, n + (first_piece ? 4 : 0)) ? 0 : r.overflow(431, "Request header fields are larger than the limit");
  }
  static int header_value(http_parser* p, const char* at, size_t n) {
    RequestReader& r = of(p);
    if (r.headers_done_) return 0;
    r.value_.append(at, n);
    r.in_value_ = true;
    return grow_head(r, n) ? 0 : r.overflow(431, "Request header fields are larger than the limit");
  }
  static int headers_complete(http_parser* p) {
    RequestReader& r = of(p);
    end_field(r);
    r.headers_done_ = true;
    r.request_.method = http_method_str(static_cast<http_method>(p->method));
    r.keep_alive_ = http_should_keep_alive(p) != 0;
    r.stop_ = RequestReader::Stop::HeadersDone;
    http_parser_pause(p, 1);
    return 0;
  }
  static int body(http_parser* p, const char* at, size_t n) {
    RequestReader& r = of(p);
    if (r.refused_) {
      r.body_seen_ += n;
      return r.body_seen_ <= r.limits_.max_skipped_body ? 0 : r.overflow(413, "Request body is larger than the limit");
    }
    r.body_seen_ += n;
    if (r.body_seen_ > r.limits_.max_body) return r.overflow(413, "Request body is larger than the limit");
    r.request_.body.append(at, n);
    return 0;
  }
  static int message_complete(http_parser* p) {
    RequestReader& r = of(p);
    r.began_ = false;
    r.stop_ = RequestReader::Stop::MessageDone;
    http_parser_pause(p, 1);
    return 0;
  }

  static const http_parser_settings& settings() {
    static const http_parser_settings s = [] {
      http_parser_settings s;
      http_parser_settings_init(&s);
      s.on_message_begin = message_begin;
      s.on_url = url;
      s.on_header_field = header_field;
      s.on_header_value = header_value;
      s.on_headers_complete = headers_complete;
      s.on_body = body;
      s.on_message_complete = message_complete;
      return s;
    }();
    return s;
  }
};

RequestReader::RequestReader(ReaderLimits limits) : limits_(limits), parser_(std::make_unique<http_parser>()) {
  http_parser_init(parser_.get(), HTTP_REQUEST);
  parser_->data = this;
}

RequestReader::~RequestReader() = default;

void RequestReader::feed(const char* data, size_t size) {
  if (!failed_) buffer_.append(data, size);
}

RequestReader::Phase RequestReader::phase() const {
  if (!began_) return Phase::Idle;
  return headers_done_ ? Phase::Body : Phase::Head;
}

int RequestReader::overflow(int status, const char* message) {
  overflow_status_ = status;
  overflow_message_ = message;
  return 1;
}

RequestReader::Event RequestReader::refuse(int status, std::string message, bool close) {
  refusal_ = error(status, message);
  closes_ = close || !keep_alive_;
  if (closes_) failed_ = true;
  return Event::Refuse;
}

RequestReader::Event RequestReader::refuse_parse_error() {
  auto err = HTTP_PARSER_ERRNO(parser_.get());
  keep_alive_ = false;
  if (overflow_status_) return refuse(overflow_status_, overflow_message_, true);
  switch (err) {
    case HPE_INVALID_METHOD:
      return refuse(501, "Unknown request method", true);
    case HPE_UNEXPECTED_CONTENT_LENGTH:
      return refuse(400, "Content-Length given twice, or with Transfer-Encoding", true);
    case HPE_INVALID_TRANSFER_ENCODING:
      return refuse(400, "Transfer-Encoding must end with chunked", true);
    case HPE_HEADER_OVERFLOW:
      return refuse(431, "Request header fields are larger than the limit", true);
    default:
      return refuse(400, std::string("Malformed request: ") + http_errno_description(err), true);
  }
}

// Drops what the parser has read of the stream, unless it may still be handed on whole (an
// upgrade's head, which libwebsockets reads again).
void RequestReader::compact() {
  if (began_ && !headers_done_) return;
  buffer_.erase(0, parsed_);
  parsed_ = 0;
}

std::optional<RequestReader::Event> RequestReader::decide_on_head() {
  http_parser* p = parser_.get();
  bool has_body = (p->flags & F_CHUNKED) || (p->content_length > 0 && p->content_length != ULLONG_MAX);
  bool continues = !expectation_.empty() && has_token(expectation_, "100-continue");
  // A refusal given before the body: drop the body and go on, unless the client waits to be
  // told to send it (it will not send it now) or it is too large to be worth reading.
  auto refuse_head = [&](int status, std::string message) -> Event {
    bool skip = has_body && !continues && ((p->flags & F_CHUNKED) || p->content_length <= limits_.max_skipped_body);
    refused_ = true;
    return refuse(status, std::move(message), has_body && !skip);
  };
  // "GET /health" with no version is HTTP/0.9, which has no status line to answer with.
  if (p->http_major == 0) return refuse(400, "The request line has no HTTP version", true);
  if (!expectation_.empty() && !continues) return refuse_head(417, "Only Expect: 100-continue is understood");
  if (!split_target(target_, request_)) return refuse_head(400, "Malformed request target");
  if (websocket_ && p->upgrade && request_.method == "GET") {
    // Blank lines before a request are allowed and skipped; libwebsockets is handed the request
    // from its method on.
    size_t blank = std::min(buffer_.find_first_not_of("\r\n"), parsed_);
    buffer_.erase(0, blank);
    parsed_ -= blank;
    return Event::Upgrade;
  }
  if (!(p->flags & F_CHUNKED) && p->content_length != ULLONG_MAX && p->content_length > limits_.max_body)
    return refuse_head(413, "Request body is larger than the limit");
  if (continues && has_body) return Event::SendContinue;
  return std::nullopt;
}

RequestReader::Event RequestReader::next() {
  while (!failed_) {
    compact();
    if (parsed_ == buffer_.size()) return Event::NeedMore;
    stop_ = Stop::None;
    size_t n = http_parser_execute(parser_.get(), &ReaderCallbacks::settings(), buffer_.data() + parsed_,
                                   buffer_.size() - parsed_);
    parsed_ += n;
    if (HTTP_PARSER_ERRNO(parser_.get()) != HPE_PAUSED) {
      if (HTTP_PARSER_ERRNO(parser_.get()) != HPE_OK) return refuse_parse_error();
      continue;  // all read, nothing to report
    }
    http_parser_pause(parser_.get(), 0);
    if (stop_ == Stop::HeadersDone) {
      if (auto e = decide_on_head()) return *e;
      continue;
    }
    // A whole message: a request to answer, or a refused one whose body has been dropped. After
    // one that ends the connection, nothing more is read.
    if (parser_->upgrade) keep_alive_ = false;  // an upgrade other than WebSocket: answered, then closed
    if (!keep_alive_) failed_ = true;
    if (!refused_) return Event::Request;
  }
  return Event::NeedMore;
}

}  // namespace raptor::http
