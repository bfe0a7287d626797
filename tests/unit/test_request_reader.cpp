// http/request_reader: HTTP/1.1 framing as RFC 9112 has it, on bytes alone (issue 14).
#include "http/request_reader.h"

#include "support.h"

using namespace raptor;
using Event = http::RequestReader::Event;

namespace {

// Every event the reader reports for `input` fed at once, with "<status>" for refusals and
// "100" for SendContinue; it stops at a refusal that closes and at an upgrade.
std::vector<std::string> events(http::RequestReader& r, const std::string& input) {
  r.feed(input.data(), input.size());
  std::vector<std::string> out;
  for (;;) {
    Event e = r.next();
    if (e == Event::NeedMore) return out;
    if (e == Event::Request) out.push_back(r.request().method + " " + r.request().path + " [" + r.request().body + "]");
    if (e == Event::SendContinue) out.push_back("100");
    if (e == Event::Upgrade) {
      out.push_back("upgrade");
      return out;
    }
    if (e == Event::Refuse) {
      out.push_back(std::to_string(r.refusal().status) + (r.closes() ? " close" : ""));
      if (r.closes()) return out;
    }
  }
}

std::vector<std::string> events(const std::string& input, http::ReaderLimits limits = {}) {
  http::RequestReader r(limits);
  return events(r, input);
}

using Events = std::vector<std::string>;

}  // namespace

TEST_CASE("a Content-Length body is read whole, and the connection kept", "[request_reader]") {
  http::RequestReader r;
  CHECK(events(r, "POST /apps/1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello") ==
        Events{"POST /apps/1/events [hello]"});
  CHECK(r.keep_alive());
}

TEST_CASE("a chunked body is decoded, chunk extensions and trailers included", "[request_reader]") {
  CHECK(events("POST /e HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
               "5;name=value\r\nhello\r\n1\r\n!\r\n0\r\nX-Trailer: t\r\n\r\n") == Events{"POST /e [hello!]"});
}

TEST_CASE("a request split at every byte reads as the same request", "[request_reader]") {
  std::string input = "POST /e?a=1 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
                      "GET /health HTTP/1.1\r\n\r\n";
  http::RequestReader r;
  Events seen;
  for (char c : input) {
    Events more = events(r, std::string(1, c));
    seen.insert(seen.end(), more.begin(), more.end());
  }
  CHECK(seen == Events{"POST /e [abc]", "GET /health []"});
}

TEST_CASE("pipelined requests come one at a time, in order", "[request_reader]") {
  http::RequestReader r;
  std::string two = "GET /a HTTP/1.1\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi";
  r.feed(two.data(), two.size());
  REQUIRE(r.next() == Event::Request);
  CHECK(r.request().path == "/a");
  CHECK(r.buffered() > 0);  // the second waits until the first is answered
  REQUIRE(r.next() == Event::Request);
  CHECK(r.request().path == "/b");
  CHECK(r.request().body == "hi");
  CHECK(r.next() == Event::NeedMore);
}

TEST_CASE("Content-Length with Transfer-Encoding is refused and ends the connection", "[request_reader]") {
  // The smuggling shape: a front end reading one framing and a back end the other.
  CHECK(events("POST /e HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
               "0\r\n\r\nGET /smuggled HTTP/1.1\r\n\r\n") == Events{"400 close"});
  CHECK(events("POST /e HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n") ==
        Events{"400 close"});
}

TEST_CASE("a duplicate or malformed Content-Length is refused", "[request_reader]") {
  CHECK(events("POST /e HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nhi") == Events{"400 close"});
  CHECK(events("POST /e HTTP/1.1\r\nContent-Length: 2, 2\r\n\r\nhi") == Events{"400 close"});
  CHECK(events("POST /e HTTP/1.1\r\nContent-Length: -1\r\n\r\n") == Events{"400 close"});
  CHECK(events("POST /e HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n") == Events{"400 close"});
}

TEST_CASE("Expect: 100-continue asks to be told before the body is sent", "[request_reader]") {
  CHECK(events("POST /e HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi") ==
        Events{"100", "POST /e [hi]"});
  // Over the limit: the final status at once, and the connection closed (the body never comes).
  CHECK(events("POST /e HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2000000\r\n\r\n") ==
        Events{"413 close"});
  CHECK(events("POST /e HTTP/1.1\r\nExpect: something-else\r\n\r\n") == Events{"417"});
}

TEST_CASE("a body over the limit is refused before it is read, then skipped exactly", "[request_reader]") {
  http::ReaderLimits limits;
  limits.max_body = 4;
  limits.max_skipped_body = 10;
  CHECK(events("POST /e HTTP/1.1\r\nContent-Length: 8\r\n\r\n12345678GET /next HTTP/1.1\r\n\r\n", limits) ==
        Events{"413", "GET /next []"});
  CHECK(events("POST /e HTTP/1.1\r\nContent-Length: 11\r\n\r\n", limits) == Events{"413 close"});
  // A chunked body has no announced size: refused when it passes the limit, and closed.
  CHECK(events("POST /e HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n12345\r\n0\r\n\r\n", limits) ==
        Events{"413 close"});
}

TEST_CASE("the request target, the fields and their count have limits", "[request_reader]") {
  http::ReaderLimits limits;
  limits.max_target = 20;
  limits.max_head = 200;
  limits.max_fields = 3;
  CHECK(events("GET /" + std::string(30, 'a') + " HTTP/1.1\r\n\r\n", limits) == Events{"414 close"});
  CHECK(events("GET / HTTP/1.1\r\nX: " + std::string(300, 'v') + "\r\n\r\n", limits) == Events{"431 close"});
  CHECK(events("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", limits) == Events{"431 close"});
  CHECK(events("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", limits) == Events{"GET / []"});
  // A field name that arrives in pieces counts as much as one that arrives whole (found by fuzzing).
  http::ReaderLimits tight;
  tight.max_head = 40;
  std::string request = "GET / HTTP/1.1\r\nX-" + std::string(20, 'a') + ": 1\r\n\r\n";
  http::RequestReader whole(tight), bytewise(tight);
  Events at_once = events(whole, request), byte_by_byte;
  for (char c : request) {
    Events more = events(bytewise, std::string(1, c));
    byte_by_byte.insert(byte_by_byte.end(), more.begin(), more.end());
  }
  CHECK(at_once == Events{"GET / []"});
  CHECK(byte_by_byte == at_once);
}

TEST_CASE("HTTP/1.0 and Connection: close end the connection after the answer", "[request_reader]") {
  http::RequestReader r10;
  CHECK(events(r10, "GET /health HTTP/1.0\r\n\r\n") == Events{"GET /health []"});
  CHECK_FALSE(r10.keep_alive());
  http::RequestReader r10k;
  CHECK(events(r10k, "GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n") == Events{"GET /health []"});
  CHECK(r10k.keep_alive());
  http::RequestReader close;
  CHECK(events(close, "GET /health HTTP/1.1\r\nConnection: close\r\n\r\nGET /more HTTP/1.1\r\n\r\n") ==
        Events{"GET /health []"});
  CHECK_FALSE(close.keep_alive());
}

TEST_CASE("an unknown method is 501 and garbage is 400", "[request_reader]") {
  CHECK(events("BREW /pot HTTP/1.1\r\n\r\n") == Events{"501 close"});
  CHECK(events("GET / HTTP/9.x\r\n\r\n") == Events{"400 close"});
  CHECK(events("GET /health\r\n\r\n") == Events{"400 close"});  // HTTP/0.9: no version
  CHECK(events("\x16\x03\x01\x02\x00") == Events{"501 close"});  // a TLS hello on the plain port
}

TEST_CASE("a WebSocket upgrade is handed on with every byte from its first", "[request_reader]") {
  http::RequestReader r;
  std::string head = "GET /app/key?protocol=7 HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  CHECK(events(r, "GET /health HTTP/1.1\r\n\r\n" + head) == Events{"GET /health []", "upgrade"});
  CHECK(r.upgrade_bytes() == head);
  CHECK(r.request().path == "/app/key");
  // Blank lines before it are skipped: lws gets the request from its method on (found by fuzzing).
  http::RequestReader blank;
  CHECK(events(blank, "GET /health HTTP/1.1\r\n\r\n\r\n\r\n" + head) == Events{"GET /health []", "upgrade"});
  CHECK(blank.upgrade_bytes() == head);
  // Another protocol's upgrade is answered as a plain request, then the connection closes.
  http::RequestReader h2c;
  CHECK(events(h2c, "GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n") == Events{"GET / []"});
  CHECK_FALSE(h2c.keep_alive());
}

TEST_CASE("the target is split into a decoded path and query", "[request_reader]") {
  http::Request r;
  REQUIRE(http::split_target("/apps/1/channels/a%40b?info=user_count&x=a+b%26c&flag", r));
  CHECK(r.path == "/apps/1/channels/a@b");
  CHECK(r.query == std::vector<std::pair<std::string, std::string>>{{"info", "user_count"}, {"x", "a b&c"}, {"flag", ""}});
  REQUIRE(http::split_target("http://example.com:80/health?a=1", r));  // the absolute form
  CHECK(r.path == "/health");
  CHECK_FALSE(http::split_target("/a%4", r));
  CHECK_FALSE(http::split_target("/a%00b", r));
  CHECK(http::split_target("/q?v=%00", r));  // kept: http/query_form refuses it with the parameter's name
}

TEST_CASE("origin-form targets split as the URL parser splits them", "[request_reader]") {
  using Query = std::vector<std::pair<std::string, std::string>>;
  http::Request r;
  REQUIRE(http::split_target("/a+b/c%2Fd?x=1?2&y=%7e+z#frag&w=3", r));
  CHECK(r.path == "/a+b/c/d");  // '+' is a space only in the query
  CHECK(r.query == Query{{"x", "1?2"}, {"y", "~ z"}});
  REQUIRE(http::split_target("/?", r));
  CHECK(r.path == "/");
  CHECK(r.query.empty());
  REQUIRE(http::split_target("/p#only?not=query", r));
  CHECK(r.path == "/p");
  CHECK(r.query.empty());
  REQUIRE(http::split_target("/x?a=%41%42%43&&b", r));
  CHECK(r.query == Query{{"a", "ABC"}, {"b", ""}});
  CHECK_FALSE(http::split_target("/x?a=%4g", r));
  CHECK_FALSE(http::split_target("/x?a=b%", r));
}

TEST_CASE("the phase tells what the connection waits for", "[request_reader]") {
  http::RequestReader r;
  CHECK(r.phase() == http::RequestReader::Phase::Idle);
  events(r, "POST /e HTTP/1.1\r\nContent");
  CHECK(r.phase() == http::RequestReader::Phase::Head);
  events(r, "-Length: 4\r\n\r\nab");
  CHECK(r.phase() == http::RequestReader::Phase::Body);
  CHECK(events(r, "cd") == Events{"POST /e [abcd]"});
  CHECK(r.phase() == http::RequestReader::Phase::Idle);
}

TEST_CASE("what proxies wrote about the client is kept, repeated fields joined, trailers ignored", "[request_reader]") {
  http::RequestReader r;
  CHECK(events(r, "GET /a HTTP/1.1\r\nX-Forwarded-For: 6.6.6.6\r\nx-forwarded-for: 198.51.100.1\r\n"
                  "Forwarded: for=\"[2001:db8::1]:80\"\r\nFORWARDED: for=10.0.0.1\r\n\r\n") == Events{"GET /a []"});
  CHECK(r.request().x_forwarded_for == "6.6.6.6,198.51.100.1");
  CHECK(r.request().forwarded == "for=\"[2001:db8::1]:80\",for=10.0.0.1");
  // The next request starts without them; a chunked body's trailer adds none.
  CHECK(events(r, "POST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-Forwarded-For: 1.2.3.4\r\n\r\n") ==
        Events{"POST /b []"});
  CHECK(r.request().x_forwarded_for.empty());
  CHECK(r.request().forwarded.empty());
}
