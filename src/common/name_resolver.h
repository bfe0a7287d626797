// Looks host names up (webhook receivers, Redis) without blocking the worker that asks: c-ares
// (Debian's libc-ares2) sends the DNS queries, and its sockets wait on the worker's own event loop
// through an EventPort like the Redis sockets, so no thread and no lock is involved. Why c-ares
// rather than getaddrinfo on a thread: docs/webhooks.md, "Host names".
// The lookup reads /etc/hosts first, then DNS (/etc/resolv.conf); when CARES_HOSTS is set, that
// file is read instead of /etc/hosts (c-ares's own variable; the tests map names with it).
// Used on one worker's thread only; resolve_now() on any thread (raptor check).
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/event_port.h"

struct ares_channeldata;
struct ares_addrinfo;

namespace raptor {

class NameResolver {
 public:
  // The numeric addresses of the name (IPv6 and IPv4, in the order to try), or why there are none.
  using Done = std::function<void(const std::vector<std::string>& addresses, const std::string& error)>;

  explicit NameResolver(cluster::EventPort& port);
  ~NameResolver();  // lookups under way end without their Done
  NameResolver(const NameResolver&) = delete;
  NameResolver& operator=(const NameResolver&) = delete;

  // Looks `name` up; `done` is called from the event loop, or from here when no query is needed
  // (a hosts-file entry): see pending(). The ticket cancels it. `done` must not destroy the resolver.
  uint64_t resolve(const std::string& name, Done done);
  // The lookup has not answered yet (resolve() may have answered before returning).
  bool pending(uint64_t ticket) const { return pending_.count(ticket) != 0; }
  // `done` will not be called (a lookup that already ended: nothing happens).
  void cancel(uint64_t ticket);
  // Ends the queries whose time is up (c-ares keeps no timer of its own): call when
  // next_timeout_ms() has passed, or about once a second.
  void expire();
  // Milliseconds until expire() has work, or -1 when no lookup is under way.
  int64_t next_timeout_ms();
  bool busy() const { return !pending_.empty(); }

  // A literal IPv4 or IPv6 address (nothing to look up).
  static bool is_address(const std::string& host);
  // A name DNS could answer for: dot-separated labels of letters, digits, '-' and '_' (1 to 63
  // characters each, 253 in all).
  static bool is_host_name(std::string_view host);
  // Looks `name` up and waits for the answer (for raptor check, not for an event loop); the
  // addresses, or why there are none.
  static std::optional<std::string> resolve_now(const std::string& name, std::vector<std::string>& addresses);
  // "cannot resolve the host name 'NAME': WHY", as every caller words it.
  static std::string failure(const std::string& name, const std::string& why);

  struct Socket;  // one of c-ares's sockets on the event loop

 private:
  bool open();
  static void on_socket_state(void* data, int fd, int readable, int writable);
  static void on_answer(void* arg, int status, int timeouts, ares_addrinfo* result);

  cluster::EventPort& port_;
  ares_channeldata* channel_ = nullptr;  // made at the first lookup
  uint64_t next_ticket_ = 1;
  std::map<uint64_t, Done> pending_;
  std::map<int, std::unique_ptr<Socket>> sockets_;
};

}  // namespace raptor
