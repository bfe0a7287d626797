// Writes the Prometheus text exposition format, version 0.0.4: a # HELP and a # TYPE line per
// family, then its samples, label values escaped as the format asks (\\, \", \n).
// https://prometheus.io/docs/instrumenting/exposition_formats/
#pragma once
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace raptor::metrics {

constexpr const char* kExpositionContentType = "text/plain; version=0.0.4; charset=utf-8";

using Labels = std::vector<std::pair<std::string_view, std::string>>;

class Exposition {
 public:
  // Starts a family; `type` is counter, gauge or histogram.
  void family(std::string_view name, std::string_view type, std::string_view help);
  void sample(std::string_view name, double value, const Labels& labels = {});
  // A family of one unlabelled sample.
  void single(std::string_view name, std::string_view type, std::string_view help, double value) {
    family(name, type, help);
    sample(name, value);
  }
  // A histogram's _bucket, _sum and _count samples from per-bucket counts (the last is +Inf).
  void histogram(std::string_view name, const std::vector<double>& bounds, const std::vector<uint64_t>& counts,
                 double sum, const Labels& labels = {});
  const std::string& text() const { return out_; }

 private:
  std::string out_;
};

}  // namespace raptor::metrics
