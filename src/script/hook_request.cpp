#include "script/hook_request.h"

#include <array>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>

#include <mruby/array.h>
#include <mruby/class.h>
#include <mruby/data.h>
#include <mruby/hash.h>
#include <mruby/string.h>
#include <mruby/variable.h>

#include "common/text.h"
#include "core/policy_hooks.h"
#include "protocol/channel_kind.h"
#include "script/ruby_json.h"

namespace raptor::script {
namespace {

void not_owned(mrb_state*, void*) {}  // the request belongs to the caller, which closes the window
const mrb_data_type kWindow = {"Raptor request", not_owned};

mrb_value pairs(mrb_state* mrb, const std::vector<std::pair<std::string, std::string>>& list) {
  mrb_value hash = mrb_hash_new_capa(mrb, static_cast<mrb_int>(list.size()));
  for (const auto& [k, v] : list) mrb_hash_set(mrb, hash, ruby_string(mrb, k), ruby_string(mrb, v));
  return hash;
}

// JSON text as Ruby values, or nil when it is empty or malformed. (The check's cJSON tree is
// freed before anything that may raise.)
mrb_value ruby_json_or_nil(mrb_state* mrb, std::string_view text) {
  if (text.empty() || !json::parse(text)) return mrb_nil_value();
  return ruby_parse_json(mrb, text);
}

const Handshake& handshake_of(const HookRequest& r) {
  static const Handshake kNone{};
  return r.handshake ? *r.handshake : kNone;
}

// A field of the signed channel_data (authorize's member), or nil.
mrb_value signed_member(mrb_state* mrb, mrb_value self, const HookRequest& r, const char* key) {
  if (!r.signed_ok) return mrb_nil_value();
  mrb_value data = mrb_funcall_argv(mrb, self, mrb_intern_lit(mrb, "channel_data"), 0, nullptr);
  return mrb_hash_p(data) ? mrb_hash_get(mrb, data, mrb_str_new_cstr(mrb, key)) : mrb_nil_value();
}

using Get = mrb_value (*)(mrb_state*, mrb_value self, const HookRequest&);

struct Reader {
  const char* name;  // as Ruby calls it
  const char* ivar;  // where its value is kept once built
  Get get;
};

// Every reader a window class may have; core/policy_hooks.h says which class has which.
constexpr Reader kReaders[] = {
    {"app_id", "@app_id", [](mrb_state* mrb, mrb_value, const HookRequest& r) { return ruby_string(mrb, r.app.id); }},
    {"origin", "@origin",
     [](mrb_state* mrb, mrb_value, const HookRequest& r) { return ruby_string(mrb, handshake_of(r).origin); }},
    {"remote_address", "@remote_address",
     [](mrb_state* mrb, mrb_value, const HookRequest& r) { return ruby_string(mrb, handshake_of(r).remote_address); }},
    {"path", "@path", [](mrb_state* mrb, mrb_value, const HookRequest& r) { return ruby_string(mrb, handshake_of(r).path); }},
    {"params", "@params", [](mrb_state* mrb, mrb_value, const HookRequest& r) { return pairs(mrb, handshake_of(r).params); }},
    {"headers", "@headers",
     [](mrb_state* mrb, mrb_value, const HookRequest& r) { return pairs(mrb, handshake_of(r).headers); }},
    {"socket_id", "@socket_id", [](mrb_state* mrb, mrb_value, const HookRequest& r) { return ruby_string(mrb, r.socket_id); }},
    {"channel", "@channel", [](mrb_state* mrb, mrb_value, const HookRequest& r) { return ruby_string(mrb, r.channel); }},
    {"channel_data", "@channel_data",
     [](mrb_state* mrb, mrb_value, const HookRequest& r) { return ruby_json_or_nil(mrb, r.channel_data); }},
    {"signed?", "@signed", [](mrb_state*, mrb_value, const HookRequest& r) { return mrb_bool_value(r.signed_ok); }},
    {"user_id", "@user_id",
     [](mrb_state* mrb, mrb_value self, const HookRequest& r) {
       if (r.has_member) return r.user_id.empty() ? mrb_nil_value() : ruby_string(mrb, r.user_id);
       mrb_value id = signed_member(mrb, self, r, "user_id");
       return mrb_nil_p(id) ? id : mrb_obj_as_string(mrb, id);
     }},
    {"user_info", "@user_info",
     [](mrb_state* mrb, mrb_value self, const HookRequest& r) {
       return r.has_member ? ruby_json_or_nil(mrb, r.user_info) : signed_member(mrb, self, r, "user_info");
     }},
    {"privileged?", "@privileged",
     [](mrb_state* mrb, mrb_value self, const HookRequest& r) {
       if (r.has_member) return mrb_bool_value(r.privileged);
       mrb_value privileged = signed_member(mrb, self, r, "privileged");
       return mrb_bool_value(mrb_type(privileged) == MRB_TT_TRUE);
     }},
    // The channel's kind (protocol/channel_kind.h): private? covers private-encrypted- too.
    {"presence?", "@presence",
     [](mrb_state*, mrb_value, const HookRequest& r) { return mrb_bool_value(channel_kind(r.channel).presence); }},
    {"private?", "@private",
     [](mrb_state*, mrb_value, const HookRequest& r) {
       ChannelType type = channel_type(r.channel);
       return mrb_bool_value(type == ChannelType::Private || type == ChannelType::Encrypted);
     }},
    {"public?", "@public",
     [](mrb_state*, mrb_value, const HookRequest& r) {
       return mrb_bool_value(channel_kind(r.channel).auth != ChannelAuth::Signature);  // no signature needed
     }},
    {"event", "@event", [](mrb_state* mrb, mrb_value, const HookRequest& r) { return ruby_string(mrb, r.event); }},
    {"data", "@data", [](mrb_state* mrb, mrb_value, const HookRequest& r) { return ruby_parse_json(mrb, r.data); }},
};
constexpr size_t kReaderCount = sizeof(kReaders) / sizeof(kReaders[0]);

// Reader I as a Ruby method: its value, built on the first read.
template <size_t I>
mrb_value read(mrb_state* mrb, mrb_value self) {
  const Reader& reader = kReaders[I];
  mrb_sym ivar = mrb_intern_static(mrb, reader.ivar, std::strlen(reader.ivar));
  if (mrb_iv_defined(mrb, self, ivar)) return mrb_iv_get(mrb, self, ivar);
  auto* request = static_cast<const HookRequest*>(mrb_data_get_ptr(mrb, self, &kWindow));
  if (!request) mrb_raisef(mrb, E_RUNTIME_ERROR, "%s was not read during its hook call, and cannot be now", reader.name);
  mrb_value value = reader.get(mrb, self, *request);
  mrb_iv_set(mrb, self, ivar, value);
  return value;
}

template <size_t... I>
constexpr std::array<mrb_func_t, sizeof...(I)> methods_of(std::index_sequence<I...>) {
  return {&read<I>...};
}
constexpr auto kMethods = methods_of(std::make_index_sequence<kReaderCount>{});

mrb_value ruby_words(mrb_state* mrb, std::string_view words, bool symbols) {
  mrb_value list = mrb_ary_new(mrb);
  for (std::string_view w : split_at(words, ' '))
    mrb_ary_push(mrb, list, symbols ? mrb_symbol_value(mrb_intern(mrb, w.data(), w.size())) : ruby_string(mrb, w));
  return list;
}

void define_window(mrb_state* mrb, RClass* raptor, const HookSpec& h) {
  RClass* cls = mrb_define_class_under(mrb, raptor, std::string(h.request).c_str(), mrb->object_class);
  MRB_SET_INSTANCE_TT(cls, MRB_TT_DATA);
  mrb_undef_class_method(mrb, cls, "new");  // only the server opens one
  for (std::string_view field : split_at(h.fields, ' ')) {
    size_t i = 0;
    while (i < kReaderCount && field != kReaders[i].name) ++i;
    if (i == kReaderCount) throw std::logic_error("core/policy_hooks.h: no reader for " + std::string(field));
    mrb_define_method(mrb, cls, kReaders[i].name, kMethods[i], MRB_ARGS_NONE());
  }
}

}  // namespace

void define_hook_requests(mrb_state* mrb) {
  RClass* raptor = mrb_define_module(mrb, "Raptor");
  mrb_value table = mrb_ary_new(mrb);
  for (const HookSpec& h : kHooks) {
    if (h.form == RequestForm::Window) define_window(mrb, raptor, h);
    mrb_value row[] = {mrb_symbol_value(mrb_intern(mrb, h.name.data(), h.name.size())),
                       mrb_bool_value(h.permission.has_value()), ruby_string(mrb, h.request),
                       ruby_words(mrb, h.fields, false), ruby_words(mrb, h.answers, true)};
    mrb_ary_push(mrb, table, mrb_ary_new_from_values(mrb, 5, row));
  }
  mrb_define_const(mrb, raptor, "HOOK_TABLE", table);
}

mrb_value open_request(mrb_state* mrb, RClass* cls, const HookRequest& request) {
  return mrb_obj_value(mrb_data_object_alloc(mrb, cls, const_cast<HookRequest*>(&request), &kWindow));
}

void close_request(mrb_value window) { DATA_PTR(window) = nullptr; }

}  // namespace raptor::script
