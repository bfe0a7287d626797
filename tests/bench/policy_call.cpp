// What a Ruby authorize hook adds to a subscription: the engine's whole subscribe path (parse the
// frame, authorize, join, answer) plus the unsubscribe, for a public channel, without a policy
// and with raptor.rb hooks of increasing work, the hook call alone, and a new interpreter (case 4:
// what the config file, each worker at start and reload, and a VM replaced after a runaway call
// cost). The connection carries a
// browser-like handshake (the hook is handed its origin, query and headers). Prints one JSON line
// per case: the median of `runs` runs of `iterations` each, in ns per subscribe+unsubscribe (or
// per call; case 4 makes iterations / 100 interpreters).
//
//   build/policy_call [iterations] [runs] [case]      (default: 200000 5, every case; case 0-4)
// The machine may be shared: wall-clock figures vary with its load. Instruction counts do not:
//   valgrind --tool=callgrind --callgrind-out-file=/dev/null build/policy_call N 1 CASE
// for two N, the difference over the difference of N (docs/performance.md).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "core/engine.h"
#include "script/ruby_policy.h"

using namespace raptor;

namespace {

struct NoTransport : Transport {
  void wake(Connection&) override {}
};

std::unique_ptr<Handshake> browser_handshake() {
  auto h = std::make_unique<Handshake>();
  h->path = "/app/bench-key?protocol=7&client=js&version=8.4.0&flash=false";
  h->origin = "https://example.com";
  h->remote_address = "203.0.113.7";
  h->params = {{"protocol", "7"}, {"client", "js"}, {"version", "8.4.0"}, {"flash", "false"}};
  h->headers = {{"host", "realtime.example.com"},
                {"origin", "https://example.com"},
                {"user-agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0"},
                {"cookie", "session=0123456789abcdef0123456789abcdef"},
                {"accept-language", "en-GB,en;q=0.9"},
                {"x-forwarded-for", "203.0.113.7"}};
  return h;
}

std::unique_ptr<script::RubyPolicy> policy_of(const char* source) {
  auto vm = std::make_unique<script::Vm>();
  std::string error;
  if (!vm->load_source(source, "raptor.rb", error)) {
    std::fprintf(stderr, "%s\n", error.c_str());
    std::exit(1);
  }
  return std::make_unique<script::RubyPolicy>(std::move(vm));
}

template <typename F>
double median_ns(int iterations, int runs, F&& once) {
  std::vector<double> ns;
  for (int r = 0; r < runs; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < iterations; ++i) once();
    ns.push_back(std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() / iterations);
  }
  std::sort(ns.begin(), ns.end());
  return ns[ns.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int iterations = argc > 1 ? std::atoi(argv[1]) : 200000;
  int runs = argc > 2 ? std::atoi(argv[2]) : 5;
  int only = argc > 3 ? std::atoi(argv[3]) : -1;
  AppList apps{App{"bench", "bench-key", "bench-secret"}};
  const App& app = apps.front();
  const std::string subscribe = R"({"event":"pusher:subscribe","data":{"channel":"news"}})";
  const std::string unsubscribe = R"({"event":"pusher:unsubscribe","data":{"channel":"news"}})";

  struct Case {
    const char* name;
    const char* source;  // null: no policy
  };
  const Case cases[] = {
      {"no policy", nullptr},
      {"authorize { pass }", "authorize { |s| pass }\n"},
      {"authorize checks channel and origin",
       "ADMIN = \"private-admin-\"\n"
       "authorize do |s|\n"
       "  next deny(\"admins only\") if s.channel.start_with?(ADMIN) && !s.signed?\n"
       "  s.origin == \"https://example.com\" ? pass : deny(\"origin\")\n"
       "end\n"},
  };
  for (int i = 0; i < 3; ++i) {
    if (only >= 0 && only != i) continue;
    const Case& c = cases[i];
    NoTransport transport;
    Hub hub(1);
    EngineLimits limits;
    limits.subscriptions_per_second = 1u << 30;  // else past the burst (1000) it measures refusals
    Engine engine(apps, limits, transport, hub, 0);
    std::unique_ptr<script::RubyPolicy> policy = c.source ? policy_of(c.source) : nullptr;
    engine.set_policy(policy.get());
    Connection* conn = engine.open(app, nullptr, c.source ? browser_handshake() : nullptr);
    double ns = median_ns(iterations, runs, [&] {
      engine.on_message(*conn, subscribe);
      engine.on_message(*conn, unsubscribe);
      while (conn->has_pending()) conn->pop_front();
    });
    std::printf("{\"case\":\"subscribe+unsubscribe, %s\",\"ns\":%.0f}\n", c.name, ns);
  }

  if (only < 0 || only == 3) {  // the hook alone, as core/subscription_authorizer.cpp calls it
    auto policy = policy_of(cases[1].source);
    auto handshake = browser_handshake();
    std::string socket_id = "1234567.7654321";
    SubscriptionRequest request{app, socket_id, handshake.get(), "news", false, {}};
    double ns = median_ns(iterations, runs, [&] { policy->authorize(request); });
    std::printf("{\"case\":\"RubyPolicy::authorize, authorize { pass }\",\"ns\":%.0f}\n", ns);
  }
  if (only < 0 || only == 4) {  // an interpreter with mrblib loaded, made and freed
    double ns = median_ns(std::max(1, iterations / 100), runs, [] { script::Vm vm; });
    std::printf("{\"case\":\"a new script::Vm\",\"ns\":%.0f}\n", ns);
  }
  return 0;
}
