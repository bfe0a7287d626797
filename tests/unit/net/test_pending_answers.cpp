// net/PendingAnswers and net/PeerAddresses: what a worker keeps between a request and its answer,
// and between a bridge (or a PROXY header) and whoever serves the connection.
#include "net/peer_addresses.h"
#include "net/pending_answers.h"

#include <catch2/catch.hpp>

using namespace raptor::net;

namespace {
// Never dereferenced: the table only hands the pointers back.
HttpConnection* connection(uintptr_t n) { return reinterpret_cast<HttpConnection*>(n * 16); }
}  // namespace

TEST_CASE("an answer reaches the connection it was numbered for, once", "[net][pending_answers]") {
  PendingAnswers answers;
  uint64_t a = answers.await(connection(1));
  uint64_t b = answers.await(connection(2));
  CHECK(a != b);
  CHECK(answers.take(b) == connection(2));
  CHECK(answers.take(b) == nullptr);  // a second answer finds nobody
  CHECK(answers.take(a) == connection(1));
  CHECK(answers.size() == 0);
}

TEST_CASE("an answer that comes after its connection closed finds nobody", "[net][pending_answers]") {
  PendingAnswers answers;
  uint64_t a = answers.await(connection(1));
  answers.forget(a);
  CHECK(answers.take(a) == nullptr);
  // A number is never given twice: a later connection does not get the late answer.
  uint64_t b = answers.await(connection(2));
  CHECK(b != a);
  CHECK(answers.take(a) == nullptr);
  CHECK(answers.take(b) == connection(2));
}

TEST_CASE("a bridged client's address is taken once, by its own descriptor", "[net][peer_addresses]") {
  PeerAddresses peers;
  CHECK_FALSE(peers.take(7));  // not a bridge: the handshake reads the socket's own peer
  peers.note(7, "203.0.113.9");
  peers.note(8, "198.51.100.4");
  CHECK(peers.take(8) == std::optional<std::string>("198.51.100.4"));
  CHECK(peers.take(7) == std::optional<std::string>("203.0.113.9"));
  CHECK_FALSE(peers.take(7));  // a descriptor reused later is not taken for the old bridge
}

TEST_CASE("a new descriptor forgets the address noted under its number for a closed one", "[net][peer_addresses]") {
  PeerAddresses peers;
  peers.note(7, "203.0.113.9");  // a bridge whose WebSocket never completed its handshake
  peers.note(8, "198.51.100.4");
  peers.forget(7);                // accepted again under the same number
  CHECK_FALSE(peers.take(7));
  CHECK(peers.take(8) == std::optional<std::string>("198.51.100.4"));
}
