#include "core/policy_refusal.h"

namespace raptor {

std::string policy_refusal(std::string_view what, const PolicyVerdict& v) {
  if (v.failed) return std::string(what) + " refused: policy error";
  return std::string(what) + " refused by policy" + (v.reason.empty() ? "" : ": " + v.reason);
}

}  // namespace raptor
