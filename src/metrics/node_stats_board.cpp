#include "metrics/node_stats_board.h"

namespace raptor::metrics {

NodeStatsBoard& NodeStatsBoard::instance() {
  static NodeStatsBoard board;
  return board;
}

void NodeStatsBoard::update(const ClusterBus::NodeStats& nodes, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mutex_);
  nodes_ = nodes;
  read_at_ms_ = now_ms;
}

std::vector<std::pair<std::string, std::string>> NodeStatsBoard::field(const std::string& name, int64_t now_ms) const {
  std::vector<std::pair<std::string, std::string>> out;
  std::lock_guard<std::mutex> lock(mutex_);
  if (now_ms - read_at_ms_ > ClusterBus::kNodeStatsTtlMs) return out;
  for (const auto& [node, fields] : nodes_)
    for (const auto& [f, value] : fields)
      if (f == name) out.emplace_back(node, value);
  return out;
}

}  // namespace raptor::metrics
