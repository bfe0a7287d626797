// How long WildcardIndex::match takes for one published channel, with N wildcard patterns in the
// index (issue 6: the cost must not grow with unrelated subscriptions). Prints one JSON line per N.
//
//   build/wildcard_match [N ...]      (default: 0 100 1000 10000 100000)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "core/wildcard_index.h"

using raptor::WildcardIndex;

int main(int argc, char** argv) {
  std::vector<int> sizes;
  for (int i = 1; i < argc; ++i) sizes.push_back(std::atoi(argv[i]));
  if (sizes.empty()) sizes = {0, 100, 1000, 10000, 100000};
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
    auto t0 = std::chrono::steady_clock::now();
    for (int r = 0; r < rounds; ++r)
      for (const auto& ch : channels) index.match(ch, [&](const std::string&) { ++found; });
    double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() /
                (double(rounds) * channels.size());
    std::printf("{\"patterns\":%zu,\"ns_per_match\":%.0f,\"matches_per_publish\":%.2f}\n", index.size(), ns,
                double(found) / (double(rounds) * channels.size()));
  }
  return 0;
}
