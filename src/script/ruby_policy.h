// The Policy (core/policy.h) of a raptor.rb file: its admit, authorize, filter_client_events and
// shape_webhook hooks and its channel rules, run in a Vm of its own. One RubyPolicy per worker,
// used on that worker's thread.
// A hook that raises, runs out of time or memory, or answers something unexpected refuses the
// action (shape_webhook: sends the event unchanged); the error is logged with the script's
// file:line.
#pragma once
#include <memory>
#include <string>
#include <unordered_map>

#include "core/policy.h"
#include "core/wildcard_index.h"
#include "script/vm.h"

namespace raptor::script {

struct HookHandles;

class RubyPolicy : public Policy {
 public:
  // Loads `path` into a new VM; null with "file:line: message" in `error` when it fails.
  static std::unique_ptr<RubyPolicy> load(const std::string& path, VmLimits limits, std::string& error);
  // The hooks of a file `vm` has loaded.
  explicit RubyPolicy(std::unique_ptr<Vm> vm);
  ~RubyPolicy() override;

  bool has(const App& app, Hook hook) const override;
  PolicyVerdict admit(const App& app, const Handshake& handshake) override;
  PolicyVerdict authorize(const SubscriptionRequest& request) override;
  PolicyVerdict filter_client_event(const ClientEventRequest& request) override;
  PolicyVerdict permit(const PermissionRequest& request) override;
  PolicyVerdict shape_webhook(const WebhookShapeRequest& request) override;

  // The hooks that apply to the app with this id, by name (for `raptor check`).
  std::vector<std::string> hook_names(const std::string& app_id) const;

 private:
  // An app's channel rules as the matcher sees them: which rules (by position in
  // Raptor.channel_rules) name each pattern or channel, and which permissions each states.
  struct ChannelRules {
    WildcardIndex wildcards;
    std::unordered_map<std::string, std::vector<std::pair<int, unsigned>>> by_pattern;  // (position, bit per Permission)
  };
  const ChannelRules& channel_rules(const App& app);
  // The positions of the rules that match `channel` and state `permission`, in order.
  std::vector<int> rules_for(const App& app, std::string_view channel, Permission permission);

  // What every call uses, looked up once per interpreter (a replaced one starts afresh).
  HookHandles& handles();

  std::unique_ptr<Vm> vm_;
  std::unique_ptr<HookHandles> handles_;
  // Bit per Hook, asked once per app id (not per App*: a policy may be asked about the apps of a
  // configuration that is then freed, before it serves the live ones).
  mutable std::unordered_map<std::string, unsigned> hooks_;
  std::unordered_map<std::string, ChannelRules> channel_rules_;  // by app id, asked once per app
};

}  // namespace raptor::script
