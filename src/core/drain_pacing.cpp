#include "core/drain_pacing.h"

#include <cmath>

namespace raptor {

size_t DrainPacing::due(int64_t now_ms, size_t open) {
  if (now_ms >= end_ms_) return open;
  if (now_ms <= last_ms_) return 0;
  // The connections still open, spread evenly over the time left: this call's slice of it.
  owed_ += double(open) * double(now_ms - last_ms_) / double(end_ms_ - last_ms_);
  last_ms_ = now_ms;
  double whole = std::floor(owed_);
  owed_ -= whole;
  return whole >= double(open) ? open : size_t(whole);
}

}  // namespace raptor
