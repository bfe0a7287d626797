// metrics/: the exposition writer's escaping and histograms, per-thread counting summed over
// every attached worker, and the other nodes' statistics kept for their TTL.
#include "metrics/counters.h"

#include <algorithm>
#include <thread>

#include "metrics/exposition.h"
#include "metrics/node_stats_board.h"
#include "support.h"

using namespace raptor;
using namespace raptor::metrics;

TEST_CASE("exposition writes HELP, TYPE and samples with escaped label values", "[metrics]") {
  Exposition out;
  out.family("raptor_x_total", "counter", "A help text with a \\ and\na new line.");
  out.sample("raptor_x_total", 3, {{"app", "a\"b\\c\nd"}});
  out.sample("raptor_x_total", 0.25);
  CHECK(out.text() ==
        "# HELP raptor_x_total A help text with a \\\\ and\\na new line.\n"
        "# TYPE raptor_x_total counter\n"
        "raptor_x_total{app=\"a\\\"b\\\\c\\nd\"} 3\n"
        "raptor_x_total 0.25\n");
}

TEST_CASE("exposition histograms are cumulative and end with +Inf, _sum and _count", "[metrics]") {
  Exposition out;
  out.histogram("h", {0.1, 1}, {2, 3, 4}, 7.5);
  CHECK(out.text() ==
        "h_bucket{le=\"0.10000000000000001\"} 2\n"
        "h_bucket{le=\"1\"} 5\n"
        "h_bucket{le=\"+Inf\"} 9\n"
        "h_sum 7.5\n"
        "h_count 9\n");
}

TEST_CASE("counters of attached worker threads are summed, unattached threads count apart", "[metrics]") {
  Registry& registry = Registry::instance();
  uint64_t before = registry.sum()->counts[size_t(Count::BytesIn)].value();
  count(Count::BytesIn, 1000);  // this thread is no worker: not in the sum
  auto worker = [&registry](size_t index, uint64_t n) {
    registry.attach(index);
    for (uint64_t i = 0; i < n; ++i) count(Count::BytesIn);
  };
  std::thread a(worker, 0, 300), b(worker, 1, 200);
  a.join();
  b.join();
  CHECK(registry.sum()->counts[size_t(Count::BytesIn)].value() - before == 500);
}

TEST_CASE("apps past the labelled ones share the _other slot", "[metrics]") {
  AppList apps;
  for (size_t i = 0; i < kLabeledApps + 3; ++i) apps.push_back(App{"app-" + std::to_string(i), "k", "s"});
  Registry& registry = Registry::instance();
  registry.name_apps(apps);
  CHECK(registry.slot_of(apps[0]) == 0);
  CHECK(registry.app_label(registry.slot_of(apps[5])) == "app-5");
  CHECK(registry.app_label(registry.slot_of(apps[kLabeledApps + 1])) == "_other");
  App stranger{"x", "k", "s"};
  CHECK(registry.slot_of(stranger) == kOtherApps);
  static const AppList kNone;
  registry.name_apps(kNone);
}

TEST_CASE("Redis script round trips are counted in their own histogram buckets, in seconds", "[metrics]") {
  Registry& registry = Registry::instance();
  auto before = registry.sum();
  std::thread worker([&registry] {
    registry.attach(2);
    redis_script_answered(80);    // 80 µs: the first bucket (<= 0.1 ms)
    redis_script_answered(3000);  // 3 ms: <= 5 ms
    redis_script_answered(4000000);  // 4 s: past every bound, +Inf
  });
  worker.join();
  auto after = registry.sum();
  const auto& bounds = redis_script_buckets();
  auto added = [&](size_t bucket) {
    return after->redis_script.per_bucket[bucket].value() - before->redis_script.per_bucket[bucket].value();
  };
  CHECK(added(0) == 1);
  size_t five_ms = size_t(std::find(bounds.begin(), bounds.end(), 0.005) - bounds.begin());
  CHECK(added(five_ms) == 1);
  CHECK(added(bounds.size()) == 1);
  CHECK(after->redis_script.micros.value() - before->redis_script.micros.value() == 4003080);
}

TEST_CASE("the other nodes' statistics are given while read within the TTL, then left out", "[metrics]") {
  NodeStatsBoard& board = NodeStatsBoard::instance();
  board.update({{"node-b", {{"node", "{\"node\":\"node-b\"}"}, {"app:a", "{}"}}}, {"node-c", {{"node", "{}"}}}}, 1000000);
  auto nodes = board.field("node", 1000000 + ClusterBus::kNodeStatsTtlMs);
  REQUIRE(nodes.size() == 2);
  CHECK(nodes[0].first == "node-b");
  CHECK(nodes[0].second == "{\"node\":\"node-b\"}");
  CHECK(board.field("app:a", 1000000).size() == 1);
  CHECK(board.field("app:x", 1000000).empty());
  CHECK(board.field("node", 1000000 + ClusterBus::kNodeStatsTtlMs + 1).empty());
}
