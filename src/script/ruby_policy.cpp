#include "script/ruby_policy.h"

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
    case Policy::Hook::ShapeWebhook:
      return "shape_webhook";
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

std::optional<std::string> string_at(mrb_value array, mrb_int i) {
  if (RARRAY_LEN(array) <= i) return std::nullopt;
  mrb_value v = RARRAY_PTR(array)[i];
  if (!mrb_string_p(v)) return std::nullopt;
  return std::string(RSTRING_PTR(v), size_t(RSTRING_LEN(v)));
}

// One hook call: which hook, for which app, and how to fill in its request's fields. The fields
// are built inside the guarded call, since building may raise at the memory cap.
struct Call {
  Policy::Hook hook;
  const App& app;
  void (*fill)(mrb_state*, mrb_value fields, const void* request);
  const void* request;
  std::string context;  // for the log: which channel or event
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
      for (Hook h : {Hook::Admit, Hook::Authorize, Hook::FilterClientEvents, Hook::ShapeWebhook})
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
  mrb_value args[3] = {mrb_symbol_value(mrb_intern_cstr(mrb, hook_name(call->hook))), ruby_string(mrb, call->app.id),
                       fields};
  return mrb_funcall_argv(mrb, mrb_obj_value(mrb_module_get(mrb, "Raptor")), mrb_intern_lit(mrb, "run_hook"), 3, args);
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
    bool webhook = call.hook == Policy::Hook::ShapeWebhook;
    log::warn("policy: %s hook of app %s%s %s: %s", hook_name(call.hook), call.app.id.c_str(), call.context.c_str(),
              webhook ? "failed, the event is sent unchanged" : "refused",
              r.ok ? "unexpected answer from run_hook" : r.error.c_str());
    v.kind = webhook ? PolicyVerdict::Kind::Pass : PolicyVerdict::Kind::Deny;
    v.failed = true;
  } else if (*kind == "allow") {
    v.kind = PolicyVerdict::Kind::Allow;
    v.user_id = string_at(r.value, 1);
    v.user_info = string_at(r.value, 2);
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
  Call call{Hook::Admit, app,
            [](mrb_state* mrb, mrb_value fields, const void* request) {
              put_handshake(mrb, fields, static_cast<const Handshake*>(request));
            },
            &handshake, {}};
  return run(*vm_, call);
}

PolicyVerdict RubyPolicy::authorize(const SubscriptionRequest& request) {
  Call call{Hook::Authorize, request.app,
            [](mrb_state* mrb, mrb_value fields, const void* p) {
              const auto& r = *static_cast<const SubscriptionRequest*>(p);
              put_connection(mrb, fields, r.handshake, r.socket_id, r.channel);
              put(mrb, fields, "signed", mrb_bool_value(r.signed_ok));
              mrb_value data = mrb_nil_value();
              if (!r.channel_data.empty() && json::parse(r.channel_data)) data = ruby_parse_json(mrb, r.channel_data);
              put(mrb, fields, "channel_data", data);
            },
            &request, ", channel " + std::string(request.channel)};
  return run(*vm_, call);
}

PolicyVerdict RubyPolicy::filter_client_event(const ClientEventRequest& request) {
  Call call{Hook::FilterClientEvents, request.app,
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

PolicyVerdict RubyPolicy::shape_webhook(const WebhookShapeRequest& request) {
  // The log names the event by its type and channel, read from the JSON without Ruby.
  std::string context;
  if (json::Ptr parsed = json::parse(request.event)) {
    context = ", " + std::string(json::string_member(parsed.get(), "name").value_or("event"));
    if (auto channel = json::string_member(parsed.get(), "channel")) context += " on " + std::string(*channel);
  }
  Call call{Hook::ShapeWebhook, request.app,
            [](mrb_state* mrb, mrb_value fields, const void* p) {
              const auto& r = *static_cast<const WebhookShapeRequest*>(p);
              put(mrb, fields, "event", ruby_parse_json(mrb, r.event));
            },
            &request, std::move(context)};
  return run(*vm_, call);
}

}  // namespace raptor::script
