#include "script/ruby_policy.h"

#include <algorithm>
#include <cstring>

#include <mruby/array.h>
#include <mruby/hash.h>
#include <mruby/string.h>

#include "common/log.h"
#include "script/ruby_json.h"

namespace raptor::script {
namespace {

const char* hook_name(Policy::Hook hook) {
  switch (hook) {
    case Policy::Hook::Admit:
      return "admit";
    case Policy::Hook::Authorize:
      return "authorize";
    case Policy::Hook::FilterClientEvents:
      return "filter_client_events";
    case Policy::Hook::ChannelRules:
      return "channels";
    case Policy::Hook::ShapeWebhook:
      return "shape_webhook";
  }
  return "";
}

const char* permission_name(Permission permission) {
  switch (permission) {
    case Permission::Subscribe:
      return "subscribe";
    case Permission::ClientEvents:
      return "client_events";
    case Permission::Roster:
      return "roster";
  }
  return "";
}

mrb_value ruby_string(mrb_state* mrb, std::string_view s) {
  return mrb_str_new(mrb, s.data(), static_cast<mrb_int>(s.size()));
}

void put(mrb_state* mrb, mrb_value hash, const char* key, mrb_value value) {
  mrb_hash_set(mrb, hash, mrb_str_new_cstr(mrb, key), value);
}

mrb_value pairs(mrb_state* mrb, const std::vector<std::pair<std::string, std::string>>& list) {
  mrb_value hash = mrb_hash_new_capa(mrb, static_cast<mrb_int>(list.size()));
  for (const auto& [k, v] : list) mrb_hash_set(mrb, hash, ruby_string(mrb, k), ruby_string(mrb, v));
  return hash;
}

// What every request has: the handshake, and for subscriptions and events the socket and channel.
void put_handshake(mrb_state* mrb, mrb_value fields, const Handshake* h) {
  static const Handshake kNone{};
  if (!h) h = &kNone;
  put(mrb, fields, "origin", ruby_string(mrb, h->origin));
  put(mrb, fields, "remote_address", ruby_string(mrb, h->remote_address));
  put(mrb, fields, "path", ruby_string(mrb, h->path));
  put(mrb, fields, "params", pairs(mrb, h->params));
  put(mrb, fields, "headers", pairs(mrb, h->headers));
}

void put_connection(mrb_state* mrb, mrb_value fields, const Handshake* h, std::string_view socket_id,
                    std::string_view channel) {
  put_handshake(mrb, fields, h);
  put(mrb, fields, "socket_id", ruby_string(mrb, socket_id));
  put(mrb, fields, "channel", ruby_string(mrb, channel));
}

// JSON text as Ruby values, or nil when it is empty or malformed. (The check's cJSON tree is
// freed before anything that may raise.)
mrb_value ruby_json_or_nil(mrb_state* mrb, std::string_view text) {
  if (text.empty() || !json::parse(text)) return mrb_nil_value();
  return ruby_parse_json(mrb, text);
}

std::optional<std::string> string_at(mrb_value array, mrb_int i) {
  if (RARRAY_LEN(array) <= i) return std::nullopt;
  mrb_value v = RARRAY_PTR(array)[i];
  if (!mrb_string_p(v)) return std::nullopt;
  return std::string(RSTRING_PTR(v), size_t(RSTRING_LEN(v)));
}

// One hook call: which hook (or channel rules: which permission, and the positions of the rules
// to ask), for which app, and how to fill in its request's fields. The fields are built inside
// the guarded call, since building may raise at the memory cap.
struct Call {
  const char* name;  // the hook, or the permission
  const App& app;
  void (*fill)(mrb_state*, mrb_value fields, const void* request);
  const void* request;
  std::string context;                       // for the log: which channel or event
  const std::vector<int>* rules = nullptr;   // channel rules: Raptor.run_channel_rules
};

}  // namespace

std::unique_ptr<RubyPolicy> RubyPolicy::load(const std::string& path, VmLimits limits, std::string& error) {
  auto vm = std::make_unique<Vm>(limits);
  if (!vm->load_file(path, error)) return nullptr;
  return std::unique_ptr<RubyPolicy>(new RubyPolicy(std::move(vm)));
}

namespace {

struct HooksFor {
  const std::string& app_id;
};

mrb_value call_hooks_for(mrb_state* mrb, void* p) {
  auto* h = static_cast<HooksFor*>(p);
  mrb_value raptor = mrb_obj_value(mrb_module_get(mrb, "Raptor"));
  return mrb_funcall(mrb, raptor, "hooks_for", 1, ruby_string(mrb, h->app_id));
}

}  // namespace

std::vector<std::string> RubyPolicy::hook_names(const std::string& app_id) const {
  std::vector<std::string> names;
  mrb_state* mrb = vm_->mrb();
  int arena = mrb_gc_arena_save(mrb);
  HooksFor h{app_id};
  Vm::Result r = vm_->call(call_hooks_for, &h, vm_->limits().hook_budget_ms);
  if (r.ok && mrb_array_p(r.value)) {
    for (mrb_int i = 0; i < RARRAY_LEN(r.value); ++i) {
      mrb_value name = RARRAY_PTR(r.value)[i];
      if (mrb_symbol_p(name)) names.emplace_back(mrb_sym_name(mrb, mrb_symbol(name)));
    }
  }
  mrb_gc_arena_restore(mrb, arena);
  return names;
}

bool RubyPolicy::has(const App& app, Hook hook) const {
  auto it = hooks_.find(app.id);
  if (it == hooks_.end()) {
    unsigned bits = 0;
    for (const auto& name : hook_names(app.id))
      for (Hook h : {Hook::Admit, Hook::Authorize, Hook::FilterClientEvents, Hook::ChannelRules, Hook::ShapeWebhook})
        if (name == hook_name(h)) bits |= 1u << unsigned(h);
    it = hooks_.emplace(app.id, bits).first;
  }
  return it->second & (1u << unsigned(hook));
}

namespace {

mrb_value call_hook(mrb_state* mrb, void* p) {
  auto* call = static_cast<Call*>(p);
  mrb_value fields = mrb_hash_new(mrb);
  put(mrb, fields, "app_id", ruby_string(mrb, call->app.id));
  call->fill(mrb, fields, call->request);
  mrb_value name = mrb_symbol_value(mrb_intern_cstr(mrb, call->name));
  mrb_value raptor = mrb_obj_value(mrb_module_get(mrb, "Raptor"));
  if (call->rules) {
    mrb_value positions = mrb_ary_new_capa(mrb, static_cast<mrb_int>(call->rules->size()));
    for (int i : *call->rules) mrb_ary_push(mrb, positions, mrb_fixnum_value(i));
    mrb_value args[4] = {name, ruby_string(mrb, call->app.id), positions, fields};
    return mrb_funcall_argv(mrb, raptor, mrb_intern_lit(mrb, "run_channel_rules"), 4, args);
  }
  mrb_value args[3] = {name, ruby_string(mrb, call->app.id), fields};
  return mrb_funcall_argv(mrb, raptor, mrb_intern_lit(mrb, "run_hook"), 3, args);
}

// Runs a hook and reads its answer, which Raptor.run_hook has already checked.
PolicyVerdict run(Vm& vm, Call& call) {
  mrb_state* mrb = vm.mrb();
  int arena = mrb_gc_arena_save(mrb);
  Vm::Result r = vm.call(call_hook, &call, vm.limits().hook_budget_ms);
  PolicyVerdict v;
  std::optional<std::string> kind;
  if (r.ok && mrb_array_p(r.value)) kind = string_at(r.value, 0);
  if (!r.ok || !kind) {
    // Not the operator's file:line when the answer was malformed: run_hook always returns one.
    // A webhook event goes out as it was; everything else is refused.
    bool webhook = std::strcmp(call.name, hook_name(Policy::Hook::ShapeWebhook)) == 0;
    log::warn("policy: %s %s of app %s%s %s: %s", call.name, call.rules ? "rule" : "hook", call.app.id.c_str(),
              call.context.c_str(), webhook ? "failed, the event is sent unchanged" : "refused",
              r.ok ? "unexpected answer from run_hook" : r.error.c_str());
    v.kind = webhook ? PolicyVerdict::Kind::Pass : PolicyVerdict::Kind::Deny;
    v.failed = true;
  } else if (*kind == "allow") {
    v.kind = PolicyVerdict::Kind::Allow;
    v.user_id = string_at(r.value, 1);
    v.user_info = string_at(r.value, 2);
    if (auto privileged = string_at(r.value, 3)) v.privileged = *privileged == "true";
  } else if (*kind == "deny") {
    v.kind = PolicyVerdict::Kind::Deny;
    v.reason = string_at(r.value, 1).value_or("");
  } else if (*kind == "drop") {
    v.kind = PolicyVerdict::Kind::Drop;
  } else if (*kind == "rewrite") {
    v.kind = PolicyVerdict::Kind::Rewrite;
    v.data = string_at(r.value, 1).value_or("null");
  }  // else "pass"
  mrb_gc_arena_restore(mrb, arena);
  return v;
}

}  // namespace

PolicyVerdict RubyPolicy::admit(const App& app, const Handshake& handshake) {
  Call call{hook_name(Hook::Admit), app,
            [](mrb_state* mrb, mrb_value fields, const void* request) {
              put_handshake(mrb, fields, static_cast<const Handshake*>(request));
            },
            &handshake, {}};
  return run(*vm_, call);
}

PolicyVerdict RubyPolicy::authorize(const SubscriptionRequest& request) {
  Call call{hook_name(Hook::Authorize), request.app,
            [](mrb_state* mrb, mrb_value fields, const void* p) {
              const auto& r = *static_cast<const SubscriptionRequest*>(p);
              put_connection(mrb, fields, r.handshake, r.socket_id, r.channel);
              put(mrb, fields, "signed", mrb_bool_value(r.signed_ok));
              put(mrb, fields, "channel_data", ruby_json_or_nil(mrb, r.channel_data));
            },
            &request, ", channel " + std::string(request.channel)};
  return run(*vm_, call);
}

PolicyVerdict RubyPolicy::filter_client_event(const ClientEventRequest& request) {
  Call call{hook_name(Hook::FilterClientEvents), request.app,
            [](mrb_state* mrb, mrb_value fields, const void* p) {
              const auto& r = *static_cast<const ClientEventRequest*>(p);
              put_connection(mrb, fields, r.handshake, r.socket_id, r.channel);
              put(mrb, fields, "event", ruby_string(mrb, r.event));
              put(mrb, fields, "data", ruby_parse_json(mrb, r.data));
              put(mrb, fields, "user_id", r.user_id.empty() ? mrb_nil_value() : ruby_string(mrb, r.user_id));
            },
            &request, ", event " + std::string(request.event) + " on " + std::string(request.channel)};
  return run(*vm_, call);
}

namespace {

struct PatternsFor {
  const std::string& app_id;
};

mrb_value call_channel_patterns(mrb_state* mrb, void* p) {
  auto* h = static_cast<PatternsFor*>(p);
  return mrb_funcall(mrb, mrb_obj_value(mrb_module_get(mrb, "Raptor")), "channel_patterns", 1,
                     ruby_string(mrb, h->app_id));
}

void put_member(mrb_state* mrb, mrb_value fields, const PermissionRequest& r) {
  put(mrb, fields, "user_id", r.user_id.empty() ? mrb_nil_value() : ruby_string(mrb, r.user_id));
  put(mrb, fields, "user_info", ruby_json_or_nil(mrb, r.user_info));
  put(mrb, fields, "privileged", mrb_bool_value(r.privileged));
}

}  // namespace

const RubyPolicy::ChannelRules& RubyPolicy::channel_rules(const App& app) {
  auto it = channel_rules_.find(app.id);
  if (it != channel_rules_.end()) return it->second;
  ChannelRules& rules = channel_rules_[app.id];
  mrb_state* mrb = vm_->mrb();
  int arena = mrb_gc_arena_save(mrb);
  PatternsFor h{app.id};
  Vm::Result r = vm_->call(call_channel_patterns, &h, vm_->limits().hook_budget_ms);
  if (r.ok && mrb_array_p(r.value)) {
    for (mrb_int i = 0; i < RARRAY_LEN(r.value); ++i) {
      mrb_value rule = RARRAY_PTR(r.value)[i];
      auto pattern = mrb_array_p(rule) ? string_at(rule, 0) : std::nullopt;
      if (!pattern || RARRAY_LEN(rule) < 2 || !mrb_array_p(RARRAY_PTR(rule)[1])) continue;
      mrb_value names = RARRAY_PTR(rule)[1];
      unsigned bits = 0;
      for (mrb_int n = 0; n < RARRAY_LEN(names); ++n)
        for (Permission p : {Permission::Subscribe, Permission::ClientEvents, Permission::Roster})
          if (string_at(names, n) == std::optional<std::string>(permission_name(p))) bits |= 1u << unsigned(p);
      if (is_wildcard_pattern(*pattern)) rules.wildcards.add(*pattern);
      rules.by_pattern[*pattern].emplace_back(int(i), bits);
    }
  } else if (!r.ok) {
    log::warn("policy: the channel rules of app %s could not be read: %s", app.id.c_str(), r.error.c_str());
  }
  mrb_gc_arena_restore(mrb, arena);
  return rules;
}

std::vector<int> RubyPolicy::rules_for(const App& app, std::string_view channel, Permission permission) {
  const ChannelRules& rules = channel_rules(app);
  std::vector<int> positions;
  auto collect = [&](const std::string& pattern) {
    auto it = rules.by_pattern.find(pattern);
    if (it == rules.by_pattern.end()) return;
    for (auto [position, bits] : it->second)
      if (bits & (1u << unsigned(permission))) positions.push_back(position);
  };
  collect(std::string(channel));
  rules.wildcards.match(channel, collect);
  std::sort(positions.begin(), positions.end());
  return positions;
}

PolicyVerdict RubyPolicy::permit(const PermissionRequest& request) {
  std::vector<int> rules = rules_for(request.app, request.channel, request.permission);
  if (rules.empty()) return {};
  Call call{permission_name(request.permission), request.app,
            [](mrb_state* mrb, mrb_value fields, const void* p) {
              const auto& r = *static_cast<const PermissionRequest*>(p);
              put_connection(mrb, fields, r.handshake, r.socket_id, r.channel);
              put_member(mrb, fields, r);
              if (r.permission == Permission::ClientEvents) {
                put(mrb, fields, "event", ruby_string(mrb, r.event));
                put(mrb, fields, "data", ruby_parse_json(mrb, r.data));
              } else {
                put(mrb, fields, "signed", mrb_bool_value(r.signed_ok));
                put(mrb, fields, "channel_data", ruby_json_or_nil(mrb, r.channel_data));
              }
            },
            &request, ", channel " + std::string(request.channel), &rules};
  return run(*vm_, call);
}

PolicyVerdict RubyPolicy::shape_webhook(const WebhookShapeRequest& request) {
  // The log names the event by its type and channel, read from the JSON without Ruby.
  std::string context;
  if (json::Ptr parsed = json::parse(request.event)) {
    context = ", " + std::string(json::string_member(parsed.get(), "name").value_or("event"));
    if (auto channel = json::string_member(parsed.get(), "channel")) context += " on " + std::string(*channel);
  }
  Call call{hook_name(Hook::ShapeWebhook), request.app,
            [](mrb_state* mrb, mrb_value fields, const void* p) {
              const auto& r = *static_cast<const WebhookShapeRequest*>(p);
              put(mrb, fields, "event", ruby_parse_json(mrb, r.event));
            },
            &request, std::move(context)};
  return run(*vm_, call);
}

}  // namespace raptor::script
