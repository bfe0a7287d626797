// NameResolver: names looked up through c-ares on an event loop (here a small poll() loop in
// place of the worker's), a hosts file given with CARES_HOSTS, and names that do not resolve.
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "common/name_resolver.h"

using raptor::NameResolver;
using raptor::cluster::EventPort;

namespace {

// The worker's loop in miniature: poll() over the watched descriptors.
struct PollPort : EventPort {
  std::map<Watch*, std::pair<int, Handler*>> watches;
  std::map<Watch*, bool> writing;
  Watch* watch(int fd, Handler& handler) override {
    auto* w = reinterpret_cast<Watch*>(new char);
    watches[w] = {fd, &handler};
    return w;
  }
  void want_write(Watch* w) override { writing[w] = true; }
  void unwatch(Watch* w) override {
    watches.erase(w);
    writing.erase(w);
    delete reinterpret_cast<char*>(w);
  }
  // One pass: waits up to `ms` and tells the handlers.
  void run_once(int ms) {
    std::vector<pollfd> fds;
    std::vector<Watch*> order;
    for (auto& [w, entry] : watches) {
      fds.push_back({entry.first, short(POLLIN | (writing[w] ? POLLOUT : 0)), 0});
      order.push_back(w);
    }
    poll(fds.data(), fds.size(), ms);
    for (size_t i = 0; i < fds.size(); ++i) {
      auto it = watches.find(order[i]);
      if (it == watches.end()) continue;
      Handler* h = it->second.second;
      if (fds[i].revents & POLLOUT) {
        writing[order[i]] = false;
        h->on_writable();
      }
      if (watches.count(order[i]) && (fds[i].revents & (POLLIN | POLLHUP | POLLERR))) h->on_readable();
    }
  }
};

struct Outcome {
  bool done = false;
  std::vector<std::string> addresses;
  std::string error;
};

Outcome look_up(const std::string& name) {
  PollPort port;
  NameResolver resolver(port);
  Outcome out;
  resolver.resolve(name, [&out](const std::vector<std::string>& a, const std::string& e) {
    out = {true, a, e};
  });
  for (int i = 0; i < 200 && !out.done; ++i) {
    port.run_once(50);
    resolver.expire();
  }
  REQUIRE(out.done);
  return out;
}

// A hosts file for the lookups of one test, as CARES_HOSTS.
struct HostsFile {
  std::string path;
  explicit HostsFile(const std::string& lines) {
    char name[] = "/tmp/raptor-hosts-XXXXXX";
    int fd = mkstemp(name);
    path = name;
    REQUIRE(write(fd, lines.data(), lines.size()) == ssize_t(lines.size()));
    close(fd);
    setenv("CARES_HOSTS", path.c_str(), 1);
  }
  ~HostsFile() {
    unsetenv("CARES_HOSTS");
    unlink(path.c_str());
  }
};

}  // namespace

TEST_CASE("host names and addresses are told apart", "[resolver]") {
  CHECK(NameResolver::is_address("127.0.0.1"));
  CHECK(NameResolver::is_address("::1"));
  CHECK_FALSE(NameResolver::is_address("localhost"));
  CHECK(NameResolver::is_host_name("localhost"));
  CHECK(NameResolver::is_host_name("app.example.com"));
  CHECK(NameResolver::is_host_name("redis-1.internal."));
  CHECK_FALSE(NameResolver::is_host_name(""));
  CHECK_FALSE(NameResolver::is_host_name("a..b"));
  CHECK_FALSE(NameResolver::is_host_name(".a"));
  CHECK_FALSE(NameResolver::is_host_name("has space"));
  CHECK_FALSE(NameResolver::is_host_name(std::string(64, 'a') + ".com"));
}

TEST_CASE("a name is looked up on the event loop, from the hosts file given by CARES_HOSTS", "[resolver]") {
  HostsFile hosts("127.0.0.7 hooks.raptor.test\n::1 redis.raptor.test\n");
  Outcome four = look_up("hooks.raptor.test");
  CHECK(four.error.empty());
  CHECK(four.addresses == std::vector<std::string>{"127.0.0.7"});
  Outcome six = look_up("redis.raptor.test");
  CHECK(six.addresses == std::vector<std::string>{"::1"});
  std::vector<std::string> now;
  CHECK_FALSE(NameResolver::resolve_now("hooks.raptor.test", now));
  CHECK(now == std::vector<std::string>{"127.0.0.7"});
}

TEST_CASE("a name that does not resolve is an error saying so", "[resolver]") {
  Outcome out = look_up("no-such-host.invalid");
  CHECK(out.addresses.empty());
  CHECK_FALSE(out.error.empty());
  std::vector<std::string> now;
  auto why = NameResolver::resolve_now("no-such-host.invalid", now);
  REQUIRE(why);
  CHECK(NameResolver::failure("no-such-host.invalid", *why).find("cannot resolve the host name 'no-such-host.invalid'") == 0);
}

TEST_CASE("a cancelled lookup never calls back", "[resolver]") {
  PollPort port;
  NameResolver resolver(port);
  bool called = false;
  uint64_t ticket = resolver.resolve("no-such-host.invalid", [&called](const auto&, const auto&) { called = true; });
  REQUIRE(resolver.pending(ticket));  // a DNS query, under way
  resolver.cancel(ticket);
  for (int i = 0; i < 5; ++i) port.run_once(10);
  resolver.expire();
  CHECK_FALSE(called);
  CHECK_FALSE(resolver.busy());
}
