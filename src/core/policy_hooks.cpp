#include "core/policy_hooks.h"

#include <algorithm>

namespace raptor {

const HookSpec& hook_spec(Policy::Hook hook) {
  for (const HookSpec& h : kHooks)
    if (h.hook == hook) return h;
  return kHooks[0];  // unreachable: every Policy::Hook has a row (tests/unit/test_policy_hooks.cpp)
}

const HookSpec& hook_spec(Permission permission) {
  for (const HookSpec& h : kHooks)
    if (h.permission == permission) return h;
  return kHooks[0];  // unreachable: every Permission has a row
}

HandshakeUse handshake_use(const Policy* policy, const App& app) {
  HandshakeUse use = HandshakeUse::None;
  if (!policy || app.retired) return use;
  for (const HookSpec& h : kHooks)
    if (h.handshake > use && policy->has(app, h.hook)) use = h.handshake;
  return use;
}

}  // namespace raptor
