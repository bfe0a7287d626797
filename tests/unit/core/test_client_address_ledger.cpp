// core/client_address_ledger: connections and connects per client address over every worker,
// exact under concurrency; which addresses are counted and under which key.
#include "core/client_address_ledger.h"

#include <atomic>
#include <thread>
#include <vector>

#include "core/admission.h"
#include "protocol/errors.h"
#include "support.h"

using namespace raptor;
using Verdict = ClientAddressLedger::Verdict;

TEST_CASE("client address ledger: counted under IPv4, an IPv6 /64, never loopback or private networks", "[address-limits]") {
  CHECK(ClientAddressLedger::key_of("203.0.113.7").size() == 4);
  CHECK(ClientAddressLedger::key_of("::ffff:203.0.113.7") == ClientAddressLedger::key_of("203.0.113.7"));
  CHECK(ClientAddressLedger::key_of("2001:db8:1:2::1") == ClientAddressLedger::key_of("2001:db8:1:2:ffff::9"));
  CHECK(ClientAddressLedger::key_of("2001:db8:1:2::1") != ClientAddressLedger::key_of("2001:db8:1:3::1"));
  for (const char* uncounted : {"127.0.0.1", "10.1.2.3", "172.20.0.1", "192.168.1.1", "169.254.0.1", "::1", "fd00::1",
                                "fe80::1", "", "not an address", "203.0.113.0/24"})
    CHECK(ClientAddressLedger::key_of(uncounted).empty());
}

TEST_CASE("client address ledger: a place per open connection, given back when its hold goes", "[address-limits]") {
  ClientAddressLedger ledger;
  AddressLimits limits{2, 0};
  ClientAddressLedger::Hold a, b, c;
  CHECK(ledger.take("203.0.113.7", 0, limits, a) == Verdict::Admitted);
  CHECK(ledger.take("203.0.113.7", 0, limits, b) == Verdict::Admitted);
  CHECK(ledger.take("203.0.113.7", 0, limits, c) == Verdict::TooManyConnections);
  CHECK(ledger.take("198.51.100.1", 0, limits, c) == Verdict::Admitted);  // another address
  CHECK(ledger.open("203.0.113.7") == 2);
  { ClientAddressLedger::Hold gone = std::move(a); }
  CHECK(ledger.open("203.0.113.7") == 1);
  ClientAddressLedger::Hold d;
  CHECK(ledger.take("203.0.113.7", 0, limits, d) == Verdict::Admitted);
  for (int i = 0; i < 10; ++i) {  // loopback: never counted, never refused
    ClientAddressLedger::Hold h;
    CHECK(ledger.take("127.0.0.1", 0, limits, h) == Verdict::Admitted);
  }
  CHECK(ledger.open("127.0.0.1") == 0);
}

TEST_CASE("client address ledger: connects a second, five seconds' worth at once, tokens back with time", "[address-limits]") {
  ClientAddressLedger ledger;
  AddressLimits limits{0, 2};  // 2 a second, 10 at once
  std::vector<ClientAddressLedger::Hold> holds(12);
  for (int i = 0; i < 10; ++i) CHECK(ledger.take("203.0.113.7", 1000, limits, holds[size_t(i)]) == Verdict::Admitted);
  CHECK(ledger.take("203.0.113.7", 1000, limits, holds[10]) == Verdict::TooManyConnects);
  holds.clear();  // closing does not give connects back: a connect-and-close loop stays limited
  ClientAddressLedger::Hold h;
  CHECK(ledger.take("203.0.113.7", 1100, limits, h) == Verdict::TooManyConnects);
  CHECK(ledger.take("203.0.113.7", 1500, limits, h) == Verdict::Admitted);  // one back after 1/2 s
}

TEST_CASE("client address ledger: exact when several workers take the last places at once", "[address-limits]") {
  ClientAddressLedger ledger;
  AddressLimits limits{100, 0};
  std::atomic<int> admitted{0};
  std::vector<std::vector<ClientAddressLedger::Hold>> kept(4);
  for (auto& k : kept) k.resize(100);
  std::vector<std::thread> workers;
  for (size_t w = 0; w < 4; ++w)
    workers.emplace_back([&, w] {
      for (auto& hold : kept[w])
        if (ledger.take("2001:db8::7", 0, limits, hold) == Verdict::Admitted) ++admitted;
    });
  for (auto& t : workers) t.join();
  CHECK(admitted == 100);
  CHECK(ledger.open("2001:db8::8") == 100);  // the same /64
  kept.clear();
  CHECK(ledger.open("2001:db8::7") == 0);
}

TEST_CASE("admission: the address's limits refuse with 4102 and 4101 after the app's checks, and the admitted connection keeps its place", "[address-limits]") {
  AppList apps{test::reference_app("3")};
  ClientAddressLedger ledger;
  AddressCheck check{ledger, "203.0.113.7", 0, AddressLimits{1, 0}};
  std::string path = "/app/" + std::string(test::kRefKey);
  Admission first = admit(apps, nullptr, path, std::string_view("7"), nullptr, std::nullopt, 0, &check);
  REQUIRE(first.app);
  Admission second = admit(apps, nullptr, path, std::string_view("7"), nullptr, std::nullopt, 0, &check);
  CHECK(second.close_code == code(CloseCode::AddressConnections));
  CHECK(second.reason == "Too many connections from your address");
  // An unknown key is refused as before, and takes nothing.
  CHECK(admit(apps, nullptr, "/app/nope", std::string_view("7"), nullptr, std::nullopt, 0, &check).close_code ==
        code(CloseCode::UnknownApp));
  first = Admission{};
  CHECK(admit(apps, nullptr, path, std::string_view("7"), nullptr, std::nullopt, 0, &check).app);
  AddressCheck fast{ledger, "198.51.100.1", 0, AddressLimits{0, 1}};  // 1 a second, 5 at once
  for (int i = 0; i < 5; ++i) CHECK(admit(apps, nullptr, path, std::string_view("7"), nullptr, std::nullopt, 0, &fast).app);
  CHECK(admit(apps, nullptr, path, std::string_view("7"), nullptr, std::nullopt, 0, &fast).close_code ==
        code(CloseCode::AddressConnectRate));
}
