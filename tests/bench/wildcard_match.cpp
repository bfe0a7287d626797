// What wildcard subscriptions cost a publish (issue 6: the cost must not grow with unrelated
// subscriptions). Two measures, one JSON line each:
//
//   build/wildcard_match index [N ...]   WildcardIndex::match for one channel with N patterns
//                                        (default N: 0 100 1000 10000 100000)
//   build/wildcard_match engine [N ...]  Engine::publish through the real engine (one worker, then
//                                        two) to a channel with one subscriber, while N connections
//                                        each hold an unrelated wildcard subscription, and with one
//                                        matching pattern subscriber more (default N: 0 10000)
//
// The engine measure is also made in instructions, which a shared machine does not disturb:
//   valgrind --tool=callgrind --toggle-collect='raptor::Engine::publish*' build/wildcard_match engine-once N
// counts only the instructions inside publish() for kEngineOnce publishes (divide by it).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/engine.h"
#include "core/wildcard_index.h"

using namespace raptor;

namespace {

using Clock = std::chrono::steady_clock;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

void index_bench(const std::vector<int>& sizes) {
  for (int n : sizes) {
    WildcardIndex index;
    // Patterns as an app would have them: one per gallery and user, plus a few broad ones.
    for (int i = 0; i < n; ++i) {
      switch (i % 4) {
        case 0: index.add("galleries." + std::to_string(i) + ".*"); break;
        case 1: index.add("private-users." + std::to_string(i) + ".**"); break;
        case 2: index.add("rooms.*.messages." + std::to_string(i)); break;
        default: index.add("galleries." + std::to_string(i) + ".*.comments"); break;
      }
    }
    index.add("galleries.**");
    std::mt19937 rng(1);
    std::vector<std::string> channels;
    for (int i = 0; i < 1000; ++i)
      channels.push_back("galleries." + std::to_string(rng() % (n + 1)) + "." + std::to_string(rng() % 100) + ".comments");
    size_t found = 0;
    const int rounds = 2000;
    auto t0 = Clock::now();
    for (int r = 0; r < rounds; ++r)
      for (const auto& ch : channels) index.match(ch, [&](const std::string&) { ++found; });
    double ns = std::chrono::duration<double, std::nano>(Clock::now() - t0).count() / (double(rounds) * channels.size());
    std::printf("{\"measure\":\"index\",\"patterns\":%zu,\"ns_per_match\":%.0f,\"matches_per_publish\":%.2f}\n",
                index.size(), ns, double(found) / (double(rounds) * channels.size()));
  }
}

// The engine's transport: frames are taken off the queues by the bench itself.
struct NullTransport : Transport {
  void wake(Connection&) override {}
};
// Another worker's mailbox: what is posted there is counted and dropped.
struct CountingMailbox : Mailbox {
  size_t posted = 0;
  void post(Delivery) override { ++posted; }
};

void drain(Connection& c) {
  while (c.has_pending()) c.pop_front();
}

std::string subscribe(const std::string& channel) {
  return "{\"event\":\"pusher:subscribe\",\"data\":{\"channel\":\"" + channel + "\"}}";
}

// An engine (worker 0 of `workers`) whose channel `news.uk` has one subscriber, with `unrelated`
// connections each subscribed to a pattern no published channel matches (users.{i}.*, … on
// worker 0, or all on worker 1 when there are two), and `matching` pattern subscribers of news.*.
struct EngineSetup {
  AppList apps{App{"bench", "bench-key", "bench-secret"}};
  NullTransport transport;
  CountingMailbox other_worker;
  Hub hub;
  std::unique_ptr<Engine> engine, engine1;
  Connection* subscriber = nullptr;
  std::vector<Connection*> fans;

  EngineSetup(size_t workers, int unrelated, int matching) : hub(workers) {
    engine = std::make_unique<Engine>(apps, EngineLimits{}, transport, hub, 0);
    if (workers == 2) {
      engine1 = std::make_unique<Engine>(apps, EngineLimits{}, transport, hub, 1);
      hub.attach(1, &other_worker);
    }
    const App& app = apps.front();
    subscriber = engine->open(app, nullptr);
    engine->on_message(*subscriber, subscribe("news.uk"));
    Engine& holder = engine1 ? *engine1 : *engine;
    for (int i = 0; i < unrelated; ++i) {
      Connection* c = holder.open(app, nullptr);
      static const char* kShapes[] = {"users.%d.*", "galleries.%d.**", "rooms.*.messages.%d", "news.uk.%d.*"};
      char pattern[64];
      std::snprintf(pattern, sizeof pattern, kShapes[i % 4], i);
      holder.on_message(*c, subscribe(pattern));
      drain(*c);
    }
    for (int i = 0; i < matching; ++i) {
      Connection* c = engine->open(app, nullptr);
      engine->on_message(*c, subscribe("news.*"));
      fans.push_back(c);
    }
    drain(*subscriber);
    for (Connection* c : fans) drain(*c);
  }

  void publish() {
    engine->publish(apps.front(), "news.uk", "headline", "{\"text\":\"a headline of some length\"}", "");
    drain(*subscriber);
    for (Connection* c : fans) drain(*c);
  }
};

void engine_bench(const std::vector<int>& sizes) {
  const int publishes = 200000, runs = 7;
  for (size_t workers : {size_t(1), size_t(2)}) {
    for (int matching : {0, 1}) {
      for (int n : sizes) {
        EngineSetup setup(workers, n, matching);
        for (int i = 0; i < 10000; ++i) setup.publish();  // warm up
        std::vector<double> ns;
        for (int r = 0; r < runs; ++r) {
          auto t0 = Clock::now();
          for (int i = 0; i < publishes; ++i) setup.publish();
          ns.push_back(std::chrono::duration<double, std::nano>(Clock::now() - t0).count() / publishes);
        }
        std::printf("{\"measure\":\"engine\",\"workers\":%zu,\"unrelated_patterns\":%d,\"matching_pattern_subscribers\":%d,"
                    "\"ns_per_publish_median\":%.0f,\"min\":%.0f,\"max\":%.0f,\"runs\":%d,\"posted_to_other_worker\":%zu}\n",
                    workers, n, matching, median(ns), *std::min_element(ns.begin(), ns.end()),
                    *std::max_element(ns.begin(), ns.end()), runs, setup.other_worker.posted);
      }
    }
  }
}

constexpr int kEngineOnce = 10000;

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "index";
  std::vector<int> sizes;
  for (int i = 2; i < argc; ++i) sizes.push_back(std::atoi(argv[i]));
  if (mode == "index") {
    index_bench(sizes.empty() ? std::vector<int>{0, 100, 1000, 10000, 100000} : sizes);
  } else if (mode == "engine") {
    engine_bench(sizes.empty() ? std::vector<int>{0, 10000} : sizes);
  } else if (mode == "engine-once") {  // for callgrind: kEngineOnce publishes, one worker
    EngineSetup setup(1, sizes.empty() ? 0 : sizes[0], sizes.size() > 1 ? sizes[1] : 0);
    for (int i = 0; i < kEngineOnce; ++i) setup.publish();
    std::printf("{\"publishes\":%d}\n", kEngineOnce);
  } else {
    std::fprintf(stderr, "usage: wildcard_match index|engine [N ...] | engine-once N [matching]\n");
    return 2;
  }
  return 0;
}
