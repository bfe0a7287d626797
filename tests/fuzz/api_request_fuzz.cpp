// libFuzzer target for the HTTP API as an outside client reaches it (issue 20): the query string
// and path read by http/request_reader, the query's form (http/query_form), the signature
// (http/request_auth) and every route of http/api over an engine. scripts/fuzz builds and runs
// it; tests/fuzz/corpus/api_request/ holds seeds.
//
// Input: byte 0 says whether to sign (bit 0): the request's auth_signature is then replaced by
// the correct one for what it carries, so that the fuzzer gets past the signature check into the
// routes (signed at the seeds' auth_timestamp, 1353088179, the clock of the run); the rest is the
// bytes of one connection, read as requests. Checked: each request is answered exactly once, at
// once (no cluster here), with a JSON object (or, for the dashboard's page and assets and
// /metrics, what their content type says), an error naming itself for 4xx/5xx.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "http/api.h"
#include "http/request_auth.h"
#include "http/request_reader.h"
#include "protocol/signature.h"

using namespace raptor;

namespace {

constexpr const char* kTarget = "api_request_fuzz";
constexpr int64_t kNow = 1353088179;

void sign(http::Request& req, const App& app) {
  std::string sig = signature::hmac_sha256_hex(app.secret, http::string_to_sign(req));
  for (auto& [name, value] : req.query)
    if (name == "auth_signature") {
      value = sig;
      return;
    }
  req.query.emplace_back("auth_signature", sig);
}

void answer(Engine& engine, const http::Request& req) {
  std::optional<http::Response> got;
  http::handle(engine, req, kNow, [&got](http::Response r) {
    FUZZ_CHECK(!got);  // exactly once
    got = std::move(r);
  });
  FUZZ_CHECK(got);  // at once
  FUZZ_CHECK(got->status >= 200 && got->status <= 599);
  bool json = std::string_view(got->content_type) == "application/json";
  if (got->status >= 400) {
    FUZZ_CHECK(json);
    FUZZ_CHECK(got->body.find("\"error\"") != std::string::npos);
  }
  if (json) FUZZ_CHECK(fuzz::is_json_object(got->body));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  bool signing = data[0] & 1;
  fuzz::EngineFixture f;
  // Somebody listening, so that publishes reach a connection and channel reads find something.
  Connection* c = f.engine.open(f.apps.front(), nullptr);
  f.engine.on_message(*c, R"({"event":"pusher:subscribe","data":{"channel":"my-channel"}})");

  http::RequestReader reader{http::ReaderLimits{}};
  reader.feed(reinterpret_cast<const char*>(data) + 1, size - 1);
  for (;;) {
    auto e = reader.next();
    if (e == http::RequestReader::Event::Request) {
      http::Request req = reader.request();
      if (signing) sign(req, f.apps.front());
      answer(f.engine, req);
      if (!reader.keep_alive()) break;
    } else if (e != http::RequestReader::Event::SendContinue) {
      break;  // more needed, a refusal or an upgrade: request_reader_fuzz covers those
    }
  }
  while (c->has_pending()) c->pop_front();
  f.engine.on_closed(c);
  return 0;
}
