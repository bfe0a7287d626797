// libFuzzer target for http/request_reader (issue 14): arbitrary bytes, split at arbitrary points,
// read the way net/ reads them, with the reader's promises checked on every event. scripts/fuzz
// builds and runs it; tests/fuzz/corpus/request_reader/ holds its seeds.
//
// Input: byte 0 = the limits (bit 0: small ones, so that every limit is reached by short inputs)
// and the number of split points (bits 1-4); then one byte per split point, the length of each
// piece before the last; the rest is the byte stream. The stream is read three ways (whole, in
// those pieces, one byte at a time) and all three must report the same events.
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <string>
#include <vector>

#include "http/request_reader.h"

using raptor::http::ReaderLimits;
using raptor::http::RequestReader;
using Event = RequestReader::Event;

namespace {

void fail(const char* what) {
  fprintf(stderr, "request_reader_fuzz: invariant broken: %s\n", what);
  abort();
}
#define CHECK(cond) ((cond) ? (void)0 : fail(#cond))

bool refusal_status(int s) { return s == 400 || s == 413 || s == 414 || s == 417 || s == 431 || s == 501; }

bool starts_with(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

// What a run saw: one line per event, comparable between runs; and at an upgrade, the bytes that
// would be handed to libwebsockets (what the reader holds plus what was not fed yet).
struct Run {
  std::vector<std::string> events;
  std::string upgrade;
};

// Two runs must agree, with one allowance: a head both over a limit and malformed further on
// ends in a closing refusal of either kind, by where it was split (the parser hands the target
// and fields over in pieces as they arrive, and rejects a bad byte before handing over the rest
// of its piece); the connection ends the same way.
bool limit_or_malformed(const std::string& a, const std::string& b) {
  auto closing = [](const std::string& e) {
    return starts_with(e, "refuse ") && e.size() > 6 && e.compare(e.size() - 6, 6, " close") == 0;
  };
  auto limit = [](const std::string& e) {
    return starts_with(e, "refuse 413") || starts_with(e, "refuse 414") || starts_with(e, "refuse 431");
  };
  return closing(a) && closing(b) && (limit(a) || limit(b));
}

// On a difference, both event lists go to stderr before the abort.
void check_same(const Run& a, const Run& b, const char* what) {
  bool same = a.events.size() == b.events.size() && a.upgrade == b.upgrade;
  for (size_t i = 0; same && i < a.events.size(); ++i)
    same = a.events[i] == b.events[i] || (i + 1 == a.events.size() && limit_or_malformed(a.events[i], b.events[i]));
  if (same) return;
  for (const Run* run : {&a, &b}) {
    fprintf(stderr, "%s:\n", run == &a ? "fed whole" : what);
    for (const auto& e : run->events) fprintf(stderr, "  %s\n", e.c_str());
    if (!run->upgrade.empty()) fprintf(stderr, "  upgrade bytes: %zu\n", run->upgrade.size());
  }
  fail("the same bytes fed in pieces gave other events");
}

// Feeds `pieces` in turn, reading every event after each like the server: answer (here: record),
// then next(); it stops at an upgrade and at the end of the connection (a refusal that closes, a
// request after which it may not be kept), after which more bytes must bring no event.
Run read(const std::vector<std::string>& pieces, const ReaderLimits& limits) {
  RequestReader r(limits);
  Run run;
  size_t fed = 0;
  bool ended = false;
  for (size_t i = 0; i < pieces.size(); ++i) {
    r.feed(pieces[i].data(), pieces[i].size());
    fed += pieces[i].size();
    for (;;) {
      Event e = r.next();
      if (ended) {
        CHECK(e == Event::NeedMore);  // nothing is read after the connection's last answer
        break;
      }
      CHECK(r.buffered() <= fed);
      if (e == Event::NeedMore) break;
      const auto& q = r.request();
      if (e == Event::Request) {
        CHECK(q.body.size() <= limits.max_body);
        CHECK(r.phase() == RequestReader::Phase::Idle);
        std::string line = "request " + q.method + " " + q.path + " ";
        for (const auto& [k, v] : q.query) line += k + "=" + v + "&";
        run.events.push_back(line + " [" + q.body + "] keep-alive=" + std::to_string(r.keep_alive()));
        ended = !r.keep_alive();
      } else if (e == Event::SendContinue) {
        CHECK(r.phase() == RequestReader::Phase::Body);
        run.events.push_back("100 " + q.method + " " + q.path);
      } else if (e == Event::Refuse) {
        CHECK(refusal_status(r.refusal().status));
        CHECK(starts_with(r.refusal().body, "{\"error\":"));
        run.events.push_back("refuse " + std::to_string(r.refusal().status) + " " + r.refusal().body +
                             (r.closes() ? " close" : ""));
        ended = r.closes();
      } else {
        CHECK(e == Event::Upgrade);
        CHECK(q.method == "GET");
        CHECK(starts_with(r.upgrade_bytes(), q.method + " "));
        run.events.push_back("upgrade " + q.path);
        run.upgrade = r.upgrade_bytes();
        for (size_t j = i + 1; j < pieces.size(); ++j) run.upgrade += pieces[j];
        return run;
      }
    }
  }
  return run;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  ReaderLimits limits;
  if (data[0] & 1) {
    limits.max_target = 64;
    limits.max_head = 256;
    limits.max_fields = 8;
    limits.max_body = 32;
    limits.max_skipped_body = 128;
  }
  size_t splits = (data[0] >> 1) & 15, at = 1;
  std::vector<size_t> lengths;
  for (; lengths.size() < splits && at < size; ++at) lengths.push_back(data[at]);
  std::string stream(reinterpret_cast<const char*>(data) + at, size - at);

  std::vector<std::string> pieces;
  size_t from = 0;
  for (size_t n : lengths) {
    n = std::min(n, stream.size() - from);
    pieces.push_back(stream.substr(from, n));
    from += n;
  }
  pieces.push_back(stream.substr(from));
  std::vector<std::string> bytes;
  for (char c : stream) bytes.emplace_back(1, c);

  Run whole = read({stream}, limits), split = read(pieces, limits), bytewise = read(bytes, limits);
  check_same(whole, split, "fed in the input's pieces");
  check_same(whole, bytewise, "fed one byte at a time");
  return 0;
}
