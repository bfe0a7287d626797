// The Policy (core/policy.h) of a raptor.rb file: its admit, authorize, filter_client_events and
// shape_webhook hooks, run in a Vm of its own. One RubyPolicy per worker, used on that worker's thread.
// A hook that raises, runs out of time or memory, or answers something unexpected refuses the
// action (shape_webhook: sends the event unchanged); the error is logged with the script's
// file:line.
#pragma once
#include <memory>
#include <string>
#include <unordered_map>

#include "core/policy.h"
#include "script/vm.h"

namespace raptor::script {

class RubyPolicy : public Policy {
 public:
  // Loads `path` into a new VM; null with "file:line: message" in `error` when it fails.
  static std::unique_ptr<RubyPolicy> load(const std::string& path, VmLimits limits, std::string& error);
  // The hooks of a file `vm` has loaded.
  explicit RubyPolicy(std::unique_ptr<Vm> vm) : vm_(std::move(vm)) {}

  bool has(const App& app, Hook hook) const override;
  PolicyVerdict admit(const App& app, const Handshake& handshake) override;
  PolicyVerdict authorize(const SubscriptionRequest& request) override;
  PolicyVerdict filter_client_event(const ClientEventRequest& request) override;
  PolicyVerdict shape_webhook(const WebhookShapeRequest& request) override;

  // The hooks that apply to the app with this id, by name (for `raptor check`).
  std::vector<std::string> hook_names(const std::string& app_id) const;

 private:
  std::unique_ptr<Vm> vm_;
  // Bit per Hook, asked once per app id (not per App*: a policy may be asked about the apps of a
  // configuration that is then freed, before it serves the live ones).
  mutable std::unordered_map<std::string, unsigned> hooks_;
};

}  // namespace raptor::script
