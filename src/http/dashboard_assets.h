// The dashboard's files (src/dashboard/), compiled into the binary by cmake/embed_assets.cmake.
#pragma once
#include <string_view>
#include <vector>

namespace raptor::http {

struct DashboardAsset {
  std::string_view name;  // e.g. "dashboard.js"
  std::string_view bytes;
};

const std::vector<DashboardAsset>& dashboard_assets();

}  // namespace raptor::http
