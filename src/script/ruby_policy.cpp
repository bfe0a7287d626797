#include "script/ruby_policy.h"

#include <algorithm>
#include <cstring>

#include <mruby/array.h>
#include <mruby/hash.h>
#include <mruby/string.h>
#include <mruby/variable.h>

#include "common/log.h"
#include "core/policy_hooks.h"
#include "script/hook_request.h"
#include "script/ruby_json.h"

namespace raptor::script {
namespace {

std::optional<std::string> string_at(mrb_value array, mrb_int i) {
  if (RARRAY_LEN(array) <= i) return std::nullopt;
  mrb_value v = RARRAY_PTR(array)[i];
  if (!mrb_string_p(v)) return std::nullopt;
  return std::string(RSTRING_PTR(v), size_t(RSTRING_LEN(v)));
}

// One hook call: which hook (or channel rules: which permission, and the positions of the rules
// to ask), for which app, and what its request reads. The request object is made inside the
// guarded call, since making it may raise at the memory cap.
struct Call {
  const HookSpec& hook;
  const App& app;
  const HookRequest* request;             // a window's request, or
  std::string_view event;                 // the webhook event (JSON) a WebhookEvent copies
  std::string (*context)(const Call&);    // for the log: which channel or event
  const std::vector<int>* rules;          // channel rules: Raptor.run_channel_rules
  HookHandles* handles = nullptr;
  // The answer, when it was one that reads the same for every hook (true, false, nil, pass):
  // read without a call into Ruby's checks.
  std::optional<PolicyVerdict::Kind> quick = std::nullopt;
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

// Per interpreter: the classes and constants every call uses, and per app id the block of each
// hook of core/policy_hooks.h (nil: none; undef: not looked up yet). The blocks stay reachable
// from Raptor's own state, so they need no GC root here.
struct HookHandles {
  mrb_state* mrb = nullptr;
  RClass* raptor = nullptr;
  mrb_value pass;                 // Raptor::Verdict::PASS, what `pass` answers
  std::vector<RClass*> requests;  // by row of kHooks; null for a Copy, made in Ruby
  std::unordered_map<std::string, std::vector<mrb_value>> blocks;

  explicit HookHandles(mrb_state* m) : mrb(m), raptor(mrb_module_get(m, "Raptor")) {
    mrb_value verdict = mrb_obj_value(mrb_class_get_under(m, raptor, "Verdict"));
    pass = mrb_const_get(m, verdict, mrb_intern_lit(m, "PASS"));
    for (const HookSpec& h : kHooks)
      requests.push_back(h.form == RequestForm::Window ? mrb_class_get_under(m, raptor, h.request.data()) : nullptr);
  }
};

RubyPolicy::RubyPolicy(std::unique_ptr<Vm> vm) : vm_(std::move(vm)) {}
RubyPolicy::~RubyPolicy() = default;

HookHandles& RubyPolicy::handles() {
  if (!handles_ || handles_->mrb != vm_->mrb()) handles_ = std::make_unique<HookHandles>(vm_->mrb());
  return *handles_;
}

bool RubyPolicy::has(const App& app, Hook hook) const {
  auto it = hooks_.find(app.id);
  if (it == hooks_.end()) {
    unsigned bits = 0;
    for (const auto& name : hook_names(app.id))
      for (const HookSpec& h : kHooks)
        if (name == h.name) bits |= 1u << unsigned(h.hook);
    it = hooks_.emplace(app.id, bits).first;
  }
  return it->second & (1u << unsigned(hook));
}

namespace {

// true, false, nil and pass read the same for every hook (core/policy_hooks.h: each row answers
// allow, deny and pass; shape_webhook reads deny as "do not send").
std::optional<PolicyVerdict::Kind> quick_answer(mrb_state* mrb, mrb_value answer, mrb_value pass) {
  if (mrb_true_p(answer)) return PolicyVerdict::Kind::Allow;
  if (mrb_false_p(answer) || mrb_nil_p(answer)) return PolicyVerdict::Kind::Deny;
  if (mrb_obj_eq(mrb, answer, pass)) return PolicyVerdict::Kind::Pass;
  return std::nullopt;
}

mrb_value call_hook(mrb_state* mrb, void* p) {
  auto* call = static_cast<Call*>(p);
  HookHandles& handles = *call->handles;
  size_t row = size_t(&call->hook - kHooks);
  mrb_value app_id = ruby_string(mrb, call->app.id);
  mrb_value raptor = mrb_obj_value(handles.raptor);
  mrb_value name = mrb_symbol_value(mrb_intern(mrb, call->hook.name.data(), call->hook.name.size()));
  mrb_value block = mrb_nil_value();
  if (!call->rules) {
    std::vector<mrb_value>& blocks = handles.blocks[call->app.id];
    if (blocks.empty()) blocks.assign(std::size(kHooks), mrb_undef_value());
    if (mrb_undef_p(blocks[row])) {
      mrb_value args[2] = {name, app_id};
      blocks[row] = mrb_funcall_argv(mrb, raptor, mrb_intern_lit(mrb, "hook"), 2, args);
    }
    block = blocks[row];
    if (mrb_nil_p(block)) {
      call->quick = PolicyVerdict::Kind::Pass;
      return mrb_nil_value();
    }
  }
  mrb_value request;
  if (call->request) {
    request = open_request(mrb, handles.requests[row], *call->request);
  } else {
    mrb_value args[2] = {app_id, ruby_parse_json(mrb, call->event)};
    request = mrb_obj_new(mrb, mrb_class_get_under(mrb, handles.raptor, "WebhookEvent"), 2, args);
  }
  if (call->rules) {
    mrb_value positions = mrb_ary_new_capa(mrb, static_cast<mrb_int>(call->rules->size()));
    for (int i : *call->rules) mrb_ary_push(mrb, positions, mrb_fixnum_value(i));
    mrb_value args[4] = {name, app_id, positions, request};
    mrb_value answer = mrb_funcall_argv(mrb, raptor, mrb_intern_lit(mrb, "run_channel_rules"), 4, args);
    if (call->request) close_request(request);
    return answer;
  }
  mrb_value answer = mrb_funcall_argv(mrb, block, mrb_intern_lit(mrb, "call"), 1, &request);
  if (call->request) close_request(request);
  if ((call->quick = quick_answer(mrb, answer, handles.pass))) return mrb_nil_value();
  // Anything else is checked, and turned into [kind, detail, …], by Ruby.
  mrb_value verdict = mrb_obj_value(mrb_class_get_under(mrb, handles.raptor, "Verdict"));
  mrb_value args[3] = {name, answer, block};
  return mrb_funcall_argv(mrb, verdict, mrb_intern_lit(mrb, "normalize"), 3, args);
}

// Runs a hook and reads its answer.
PolicyVerdict run(Vm& vm, HookHandles& handles, Call& call) {
  call.handles = &handles;
  mrb_state* mrb = vm.mrb();
  int arena = mrb_gc_arena_save(mrb);
  Vm::Result r = vm.call(call_hook, &call, vm.limits().hook_budget_ms);
  PolicyVerdict v;
  if (r.ok && call.quick) {
    v.kind = *call.quick;
    mrb_gc_arena_restore(mrb, arena);
    return v;
  }
  std::optional<std::string> kind;
  if (r.ok && mrb_array_p(r.value)) kind = string_at(r.value, 0);
  if (!r.ok || !kind) {
    // Not the operator's file:line when the answer was malformed: Verdict.normalize always returns one.
    // A webhook event goes out as it was; everything else is refused.
    bool webhook = call.hook.hook == Policy::Hook::ShapeWebhook;
    log::warn("policy: %s %s of app %s%s %s: %s", std::string(call.hook.name).c_str(),
              call.rules ? "rule" : "hook", call.app.id.c_str(), call.context(call).c_str(),
              webhook ? "failed, the event is sent unchanged" : "refused",
              r.ok ? "unexpected answer from Raptor::Verdict" : r.error.c_str());
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

std::string on_channel(const Call& call) { return ", channel " + std::string(call.request->channel); }

}  // namespace

PolicyVerdict RubyPolicy::admit(const App& app, const Handshake& handshake) {
  HookRequest request(app, &handshake);
  Call call{hook_spec(Hook::Admit), app, &request, {}, [](const Call&) { return std::string(); }, nullptr};
  return run(*vm_, handles(), call);
}

PolicyVerdict RubyPolicy::authorize(const SubscriptionRequest& r) {
  HookRequest request(r.app, r.handshake, r.socket_id, r.channel);
  request.signed_ok = r.signed_ok;
  request.channel_data = r.channel_data;
  Call call{hook_spec(Hook::Authorize), r.app, &request, {}, on_channel, nullptr};
  return run(*vm_, handles(), call);
}

PolicyVerdict RubyPolicy::filter_client_event(const ClientEventRequest& r) {
  HookRequest request(r.app, r.handshake, r.socket_id, r.channel);
  request.has_member = true;
  request.user_id = r.user_id;
  request.event = r.event;
  request.data = r.data;
  auto context = [](const Call& c) {
    return ", event " + std::string(c.request->event) + " on " + std::string(c.request->channel);
  };
  Call call{hook_spec(Hook::FilterClientEvents), r.app, &request, {}, context, nullptr};
  return run(*vm_, handles(), call);
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
          if (string_at(names, n) == std::optional<std::string>(hook_spec(p).name)) bits |= 1u << unsigned(p);
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

PolicyVerdict RubyPolicy::permit(const PermissionRequest& r) {
  std::vector<int> rules = rules_for(r.app, r.channel, r.permission);
  if (rules.empty()) return {};
  HookRequest request(r.app, r.handshake, r.socket_id, r.channel);
  request.signed_ok = r.signed_ok;
  request.channel_data = r.channel_data;
  request.has_member = true;
  request.user_id = r.user_id;
  request.user_info = r.user_info;
  request.privileged = r.privileged;
  request.event = r.event;
  request.data = r.data;
  Call call{hook_spec(r.permission), r.app, &request, {}, on_channel, &rules};
  return run(*vm_, handles(), call);
}

PolicyVerdict RubyPolicy::shape_webhook(const WebhookShapeRequest& request) {
  auto context = [](const Call& c) {  // the event's type and channel, read from the JSON without Ruby
    std::string context;
    if (json::Ptr parsed = json::parse(c.event)) {
      context = ", " + std::string(json::string_member(parsed.get(), "name").value_or("event"));
      if (auto channel = json::string_member(parsed.get(), "channel")) context += " on " + std::string(*channel);
    }
    return context;
  };
  Call call{hook_spec(Hook::ShapeWebhook), request.app, nullptr, request.event, context, nullptr};
  return run(*vm_, handles(), call);
}

}  // namespace raptor::script
