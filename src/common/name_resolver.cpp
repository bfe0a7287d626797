#include "common/name_resolver.h"

#include <arpa/inet.h>
#include <ares.h>
#include <netdb.h>
#include <sys/select.h>

#include <cstdlib>
#include <cstring>
#include <mutex>

namespace raptor {
namespace {

// Per query: 2 s for a DNS server to answer (4 s at the second try), two tries per server; the
// callers' own deadlines (a Redis attempt's 5 s, a webhook POST's timeout) usually end it sooner.
constexpr int kQueryTimeoutMs = 2000;
constexpr int kTries = 2;

bool init_library() {
  static std::once_flag once;
  static int status = ARES_SUCCESS;
  std::call_once(once, [] { status = ares_library_init(ARES_LIB_INIT_ALL); });
  return status == ARES_SUCCESS;
}

std::optional<std::string> make_channel(ares_channel& channel, ares_sock_state_cb on_state, void* data) {
  if (!init_library()) return std::string("c-ares cannot start");
  ares_options options;
  memset(&options, 0, sizeof options);
  options.timeout = kQueryTimeoutMs;
  options.tries = kTries;
  int mask = ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
  if (on_state) {
    options.sock_state_cb = on_state;
    options.sock_state_cb_data = data;
    mask |= ARES_OPT_SOCK_STATE_CB;
  }
  int status = ares_init_options(&channel, &options, mask);
  if (status != ARES_SUCCESS) return std::string(ares_strerror(status));
  return std::nullopt;
}

void start_lookup(ares_channel channel, const std::string& name, ares_addrinfo_callback done, void* arg) {
  ares_addrinfo_hints hints;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  // c-ares reads CARES_HOSTS only when asked, and fails the lookup when asked with it unset.
  if (getenv("CARES_HOSTS")) hints.ai_flags |= ARES_AI_ENVHOSTS;
  ares_getaddrinfo(channel, name.c_str(), nullptr, &hints, done, arg);
}

// The answer's addresses as text, in c-ares's order (RFC 6724, as getaddrinfo sorts them).
std::vector<std::string> addresses_of(const ares_addrinfo* result) {
  std::vector<std::string> out;
  for (const ares_addrinfo_node* n = result ? result->nodes : nullptr; n; n = n->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    const void* where = n->ai_family == AF_INET6
                            ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in6*>(n->ai_addr)->sin6_addr)
                            : static_cast<const void*>(&reinterpret_cast<const sockaddr_in*>(n->ai_addr)->sin_addr);
    if (inet_ntop(n->ai_family, where, text, sizeof text)) out.emplace_back(text);
  }
  return out;
}

struct Query {
  NameResolver* resolver;
  uint64_t ticket;
};

}  // namespace

struct NameResolver::Socket : cluster::EventPort::Handler {
  NameResolver* resolver;
  int fd;
  cluster::EventPort::Watch* watch = nullptr;
  bool wants_write = false;

  // Either call may end in on_socket_state closing this socket: nothing touches `this` after.
  void on_readable() override { ares_process_fd(resolver->channel_, fd, ARES_SOCKET_BAD); }
  void on_writable() override {
    NameResolver* r = resolver;
    int socket_fd = fd;
    ares_process_fd(r->channel_, ARES_SOCKET_BAD, socket_fd);
    auto it = r->sockets_.find(socket_fd);
    if (it != r->sockets_.end() && it->second->wants_write) r->port_.want_write(it->second->watch);
  }
};

NameResolver::NameResolver(cluster::EventPort& port) : port_(port) {}

NameResolver::~NameResolver() {
  pending_.clear();
  if (channel_) ares_destroy(channel_);  // answers ARES_EDESTRUCTION, then closes its sockets
  for (auto& [fd, s] : sockets_)
    if (s->watch) port_.unwatch(s->watch);
}

bool NameResolver::open() {
  if (channel_) return true;
  ares_channel channel = nullptr;
  if (make_channel(channel, on_socket_state, this)) return false;
  channel_ = channel;
  return true;
}

uint64_t NameResolver::resolve(const std::string& name, Done done) {
  uint64_t ticket = next_ticket_++;
  pending_.emplace(ticket, std::move(done));
  if (!open()) {
    // Told from the loop like any answer: the next expire() finds no channel and fails it.
    return ticket;
  }
  start_lookup(channel_, name, on_answer, new Query{this, ticket});
  return ticket;
}

void NameResolver::cancel(uint64_t ticket) { pending_.erase(ticket); }

void NameResolver::expire() {
  if (!channel_) {  // c-ares could not start: every lookup fails
    auto failed = std::move(pending_);
    pending_.clear();
    for (auto& [ticket, done] : failed) done({}, "c-ares cannot start");
    return;
  }
  ares_process_fd(channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
}

int64_t NameResolver::next_timeout_ms() {
  if (pending_.empty()) return -1;
  if (!channel_) return 0;
  timeval left{};
  if (!ares_timeout(channel_, nullptr, &left)) return 1000;  // nothing sent yet: look again soon
  return int64_t(left.tv_sec) * 1000 + left.tv_usec / 1000;
}

void NameResolver::on_socket_state(void* data, int fd, int readable, int writable) {
  auto* self = static_cast<NameResolver*>(data);
  auto it = self->sockets_.find(fd);
  if (!readable && !writable) {  // c-ares closes it
    if (it == self->sockets_.end()) return;
    if (it->second->watch) self->port_.unwatch(it->second->watch);
    self->sockets_.erase(it);
    return;
  }
  if (it == self->sockets_.end()) {
    auto s = std::make_unique<Socket>();
    s->resolver = self;
    s->fd = fd;
    s->watch = self->port_.watch(fd, *s);  // null: the query times out (the loop is out of room)
    it = self->sockets_.emplace(fd, std::move(s)).first;
  }
  it->second->wants_write = writable;
  if (writable && it->second->watch) self->port_.want_write(it->second->watch);
}

void NameResolver::on_answer(void* arg, int status, int, ares_addrinfo* result) {
  std::unique_ptr<Query> query(static_cast<Query*>(arg));
  std::vector<std::string> addresses = addresses_of(result);
  if (result) ares_freeaddrinfo(result);
  if (status == ARES_EDESTRUCTION) return;  // the resolver is going
  NameResolver* self = query->resolver;
  auto it = self->pending_.find(query->ticket);
  if (it == self->pending_.end()) return;  // cancelled
  Done done = std::move(it->second);
  self->pending_.erase(it);
  if (status == ARES_SUCCESS && addresses.empty()) status = ARES_ENODATA;
  done(addresses, status == ARES_SUCCESS ? std::string() : std::string(ares_strerror(status)));
}

bool NameResolver::is_address(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

bool NameResolver::is_host_name(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  size_t label = 0;
  for (char c : host) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok || ++label > 63) return false;
  }
  return true;  // a trailing dot (a fully qualified name) is fine
}

std::optional<std::string> NameResolver::resolve_now(const std::string& name, std::vector<std::string>& addresses) {
  ares_channel channel = nullptr;
  if (auto why = make_channel(channel, nullptr, nullptr)) return why;
  struct Answer {
    bool done = false;
    int status = ARES_SUCCESS;
    std::vector<std::string> addresses;
  } answer;
  auto on_done = [](void* arg, int status, int, ares_addrinfo* result) {
    auto* a = static_cast<Answer*>(arg);
    a->done = true;
    a->status = status;
    a->addresses = addresses_of(result);
    if (result) ares_freeaddrinfo(result);
  };
  start_lookup(channel, name, on_done, &answer);
  while (!answer.done) {
    fd_set readers, writers;
    FD_ZERO(&readers);
    FD_ZERO(&writers);
    int n = ares_fds(channel, &readers, &writers);
    timeval wait{};
    timeval* left = ares_timeout(channel, nullptr, &wait);
    if (!left) wait = {1, 0}, left = &wait;
    select(n, &readers, &writers, nullptr, left);
    ares_process(channel, &readers, &writers);
  }
  ares_destroy(channel);
  if (answer.status == ARES_SUCCESS && answer.addresses.empty()) answer.status = ARES_ENODATA;
  if (answer.status != ARES_SUCCESS) return std::string(ares_strerror(answer.status));
  addresses = std::move(answer.addresses);
  return std::nullopt;
}

std::string NameResolver::failure(const std::string& name, const std::string& why) {
  return "cannot resolve the host name '" + name + "': " + why;
}

}  // namespace raptor
