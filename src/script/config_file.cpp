#include "script/config_file.h"

#include <sys/stat.h>

#include <algorithm>

#include "common/nearest_name.h"
#include "config/webhook_spec.h"
#include "core/policy_hooks.h"
#include "script/ruby_json.h"
#include "script/ruby_policy.h"
#include "script/vm.h"

namespace raptor::script {
namespace {

// env() for `raptor check --no-env`: no variable is set; one read without a default gives a
// stand-in, so that a file whose secrets come from the environment can be checked without them.
constexpr const char* kEnvironmentStandIns = R"ruby(
module Raptor
  def self.env(name, *default)
    raise ArgumentError, "env(#{name}): only RAPTOR_* variables can be read" unless name.to_s.start_with?("RAPTOR_")
    default.empty? ? "stand-in-for-#{name}" : default.first
  end
end
)ruby";

// "file:line: undefined method 'lissten' (NoMethodError)" gets "; did you mean listen?" when a
// directive of raptor.rb is that close to the name.
void suggest_directive(Vm& vm, std::string& message) {
  const std::string kUndefined = "undefined method '";
  size_t start = message.find(kUndefined);
  if (start == std::string::npos || message.find("(NoMethodError)") == std::string::npos) return;
  start += kUndefined.size();
  size_t end = message.find('\'', start);
  if (end == std::string::npos) return;
  Vm::Result r = vm.call_raptor("directives", {});
  std::string error;
  json::Ptr names = r.ok ? json_from_ruby(vm.mrb(), r.value, error) : nullptr;
  std::vector<std::string> candidates;
  for (const cJSON* n = names ? names->child : nullptr; n; n = n->next)
    if (cJSON_IsString(n)) candidates.emplace_back(n->valuestring);
  if (auto nearest = nearest_name(message.substr(start, end - start), candidates))
    message += "; did you mean " + *nearest + "?";
}

// Reading a tree the DSL has already checked: a member of the expected JSON type, or nothing.
const cJSON* member(const cJSON* obj, const char* key) { return cJSON_GetObjectItemCaseSensitive(obj, key); }

template <typename T>
void number(const cJSON* obj, const char* key, T& out) {
  if (const cJSON* v = member(obj, key); cJSON_IsNumber(v)) out = static_cast<T>(v->valuedouble);
}

void string(const cJSON* obj, const char* key, std::string& out) {
  if (const cJSON* v = member(obj, key); cJSON_IsString(v)) out = v->valuestring;
}

void boolean(const cJSON* obj, const char* key, bool& out) {
  if (const cJSON* v = member(obj, key); cJSON_IsBool(v)) out = cJSON_IsTrue(v);
}

std::vector<std::string> strings(const cJSON* array) {
  std::vector<std::string> out;
  for (const cJSON* v = array ? array->child : nullptr; v; v = v->next)
    if (cJSON_IsString(v)) out.emplace_back(v->valuestring);
  return out;
}

// The app's `webhook`s (checked by the DSL already); why one is refused, else nothing.
std::optional<std::string> webhooks(const cJSON* a, App& app) {
  for (const cJSON* w = a ? member(a, "webhooks") : nullptr, *it = w ? w->child : nullptr; it; it = it->next) {
    WebhookParts parts;
    string(it, "url", parts.url);
    parts.events = strings(member(it, "events"));
    string(it, "prefix", parts.prefix);
    string(it, "suffix", parts.suffix);
    parts.headers = strings(member(it, "headers"));
    string(it, "ca", parts.ca_file);
    boolean(it, "verify_tls", parts.verify_tls);
    WebhookEndpoint endpoint;
    if (auto why = parse_webhook(parts, endpoint)) return "app " + app.id + ": webhook: " + *why;
    app.webhooks.push_back(std::move(endpoint));
  }
  return std::nullopt;
}

std::optional<std::string> apply(const cJSON* s, Config& c) {
  string(s, "host", c.host);
  number(s, "port", c.port);
  string(s, "tls_cert", c.tls_cert);
  string(s, "tls_key", c.tls_key);
  std::string version;
  string(s, "tls_min_version", version);
  if (auto named = tls_version_named(version)) c.tls_min_version = *named;
  string(s, "tls_ciphers", c.tls_ciphers);
  number(s, "workers", c.workers);
  std::string loop;
  string(s, "event_loop", loop);
  if (loop == "poll") c.event_loop = Config::EventLoop::Poll;
  if (loop == "epoll") c.event_loop = Config::EventLoop::Epoll;
  boolean(s, "compression", c.compression);
  boolean(s, "proxy_protocol", c.proxy_protocol);
  for (const std::string& text : strings(member(s, "trusted_proxies"))) {
    auto range = parse_address_range(text);
    if (!range) return "trusted_proxies: '" + text + "' is not an IPv4 or IPv6 address or network (e.g. 10.0.0.0/8)";
    c.trusted_proxies.push_back(*range);
  }
  std::string header;
  string(s, "forwarded_header", header);
  if (auto named = forwarded_header_named(header)) c.forwarded_header = *named;
  std::string level;
  string(s, "log_level", level);
  if (auto named = log::level_named(level)) c.log_level = *named;
  number(s, "drain_seconds", c.drain_seconds);
  number(s, "activity_timeout", c.limits.activity_timeout_s);
  number(s, "pong_timeout", c.limits.pong_timeout_s);
  number(s, "max_send_queue", c.limits.max_send_queue_bytes);
  number(s, "max_send_queue_total", c.limits.max_send_queue_total_bytes);
  number(s, "max_connections_per_ip", c.limits.per_address.max_connections);
  number(s, "connects_per_second_per_ip", c.limits.per_address.connects_per_second);
  number(s, "max_message_size", c.max_message_bytes);
  number(s, "hook_time_budget", c.hook_time_budget_ms);
  number(s, "script_memory_limit", c.script_memory_mb);
  if (const cJSON* url = member(s, "redis"); cJSON_IsString(url)) {
    RedisAddress address;
    if (auto why = parse_redis_url(url->valuestring, address)) return "redis: " + *why;  // checked by the DSL too
    c.cluster.redis = std::move(address);
  }
  string(s, "redis_prefix", c.cluster.prefix);
  string(s, "node_id", c.cluster.node_id);
  string(s, "admin_token", c.admin_token);
  number(s, "node_timeout", c.cluster.node_timeout_s);
  number(s, "startup_wait", c.cluster.startup_wait_s);
  const cJSON* apps = member(s, "apps");
  if (cJSON_GetArraySize(apps) > 0) {
    c.apps.clear();
    c.default_credentials = false;
  }
  for (const cJSON* a = apps ? apps->child : nullptr; a; a = a->next) {
    App app;
    string(a, "id", app.id);
    string(a, "key", app.key);
    string(a, "secret", app.secret);
    boolean(a, "client_events", app.client_events);
    number(a, "client_events_per_second", app.client_events_per_second);
    number(a, "max_presence_members", app.max_presence_members);
    number(a, "user_authentication_timeout", app.user_authentication_timeout_s);
    number(a, "cache_ttl", app.cache_ttl_s);
    boolean(a, "subscription_count", app.subscription_count_events);
    number(a, "max_connections", app.max_connections);
    number(a, "api_events_per_second", app.api_events_per_second);
    app.allowed_origins = strings(member(a, "allowed_origins"));
    if (auto why = webhooks(a, app)) return why;
    c.apps.push_back(std::move(app));
  }
  return std::nullopt;
}

VmLimits limits_of(const Config& c) {
  VmLimits limits;
  limits.hook_budget_ms = c.hook_time_budget_ms;
  limits.memory_bytes = c.script_memory_mb << 20;
  return limits;
}

}  // namespace

bool read_config_file(const std::string& path, Config& config, std::string& message) {
  struct stat st;
  if (stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    message = path + ": is a directory, not a configuration file (e.g. " + path + (path.back() == '/' ? "" : "/") +
              "raptor.rb)";
    return false;
  }
  auto vm = std::make_unique<Vm>();
  std::string ignored;
  if (config.environment_stand_ins && !vm->load_source(kEnvironmentStandIns, "(raptor check --no-env)", ignored)) {
    message = "raptor check --no-env: " + ignored;  // a defect of the stand-ins below, not of the file
    return false;
  }
  if (!vm->load_file(path, message)) {
    suggest_directive(*vm, message);
    // An unset secret, as in CI: say how to check the file without it.
    if (message.find(" is not set (KeyError)") != std::string::npos)
      message += "; set it, or check the file without it: raptor check --no-env " + path;
    return false;
  }
  Vm::Result r = vm->call_raptor("configuration", {});
  std::string error;
  json::Ptr settings = r.ok ? json_from_ruby(vm->mrb(), r.value, error) : nullptr;
  if (!settings) {
    message = r.ok ? path + ": " + error : r.error;
    return false;
  }
  if (auto why = apply(settings.get(), config)) {
    message = path + ": " + *why;
    return false;
  }
  config.config_file = path;

  RubyPolicy policy(std::move(vm));
  message.clear();
  for (const App& app : config.apps) {
    // The hooks by name, and channel rules as one entry ("channels") whatever they state.
    std::vector<std::string> shown;
    for (const auto& name : policy.hook_names(app.id)) {
      bool rule = false;
      for (const HookSpec& h : kHooks) rule = rule || (h.name == name && h.permission);
      std::string entry = rule ? "channels" : name;
      if (std::find(shown.begin(), shown.end(), entry) == shown.end()) shown.push_back(entry);
    }
    std::string list;
    for (const auto& h : shown) list += (list.empty() ? "" : ", ") + h;
    message += (message.empty() ? "" : "; ") + app.id + " (" + (list.empty() ? "no hooks" : "hooks: " + list) + ")";
  }
  return true;
}

bool load_policies(Config& config, std::string& error) {
  config.policies.clear();
  for (size_t i = 0; i < config.workers; ++i) {
    auto policy = RubyPolicy::load(config.config_file, limits_of(config), error);
    if (!policy) return false;
    if (i == 0) {
      bool any = false;
      for (const App& app : config.apps)
        for (const HookSpec& h : kHooks) any = any || policy->has(app, h.hook);
      if (!any) return true;  // nothing to ask: no VM per worker
    }
    config.policies.push_back(std::move(policy));
  }
  return true;
}

}  // namespace raptor::script
