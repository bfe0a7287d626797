#include "script/ruby_json.h"

#include <mruby/array.h>
#include <mruby/error.h>
#include <mruby/hash.h>
#include <mruby/string.h>
#include <mruby/variable.h>

#include <cmath>

#include "script/runaway_guard.h"

namespace raptor::script {
namespace {

constexpr int kMaxDepth = 64;

struct Builder {
  std::string& error;
  cJSON* build(mrb_state* mrb, mrb_value v, int depth);
};

struct HashWalk {
  Builder* builder;
  cJSON* object;
  int depth;
};

int add_member(mrb_state* mrb, mrb_value key, mrb_value value, void* data) {
  auto* walk = static_cast<HashWalk*>(data);
  std::string name;
  if (mrb_string_p(key)) {
    name.assign(RSTRING_PTR(key), RSTRING_LEN(key));
  } else if (mrb_symbol_p(key)) {
    mrb_int len;
    const char* s = mrb_sym_name_len(mrb, mrb_symbol(key), &len);
    name.assign(s, size_t(len));
  } else {
    walk->builder->error = std::string("a Hash key must be a String or Symbol, not ") + mrb_obj_classname(mrb, key);
    return 1;
  }
  if (!json::valid_utf8(name)) {
    walk->builder->error = "a Hash key is not valid UTF-8";
    return 1;
  }
  cJSON* item = walk->builder->build(mrb, value, walk->depth + 1);
  if (!item) return 1;
  cJSON_AddItemToObject(walk->object, name.c_str(), item);
  return 0;
}

cJSON* Builder::build(mrb_state* mrb, mrb_value v, int depth) {
  if (depth > kMaxDepth) {
    error = "nested more than 64 levels deep";
    return nullptr;
  }
  if (mrb_nil_p(v)) return cJSON_CreateNull();
  switch (mrb_type(v)) {
    case MRB_TT_FALSE:
      return cJSON_CreateFalse();
    case MRB_TT_TRUE:
      return cJSON_CreateTrue();
    case MRB_TT_INTEGER:
      return cJSON_CreateNumber(double(mrb_integer(v)));
    case MRB_TT_FLOAT: {
      double d = mrb_float(v);
      if (!std::isfinite(d)) {
        error = "a Float that is not finite has no JSON form";
        return nullptr;
      }
      return cJSON_CreateNumber(d);
    }
    case MRB_TT_STRING:
    case MRB_TT_SYMBOL: {
      std::string s;
      if (mrb_string_p(v)) {
        s.assign(RSTRING_PTR(v), RSTRING_LEN(v));
      } else {
        mrb_int len;
        const char* name = mrb_sym_name_len(mrb, mrb_symbol(v), &len);
        s.assign(name, size_t(len));
      }
      if (!json::valid_utf8(s)) {
        error = "a String is not valid UTF-8";
        return nullptr;
      }
      return cJSON_CreateString(s.c_str());
    }
    case MRB_TT_ARRAY: {
      cJSON* array = cJSON_CreateArray();
      for (mrb_int i = 0; i < RARRAY_LEN(v); ++i) {
        cJSON* item = build(mrb, RARRAY_PTR(v)[i], depth + 1);
        if (!item) {
          cJSON_Delete(array);
          return nullptr;
        }
        cJSON_AddItemToArray(array, item);
      }
      return array;
    }
    case MRB_TT_HASH: {
      cJSON* object = cJSON_CreateObject();
      HashWalk walk{this, object, depth};
      mrb_hash_foreach(mrb, mrb_hash_ptr(v), add_member, &walk);  // allocates nothing in Ruby
      if (!error.empty()) {
        cJSON_Delete(object);
        return nullptr;
      }
      return object;
    }
    default:
      error = std::string("a ") + mrb_obj_classname(mrb, v) + " has no JSON form";
      return nullptr;
  }
}

struct Conversion {
  const cJSON* node;
};

mrb_value convert(mrb_state* mrb, void* data) {
  return ruby_from_json(mrb, static_cast<Conversion*>(data)->node);
}

}  // namespace

mrb_value ruby_from_json(mrb_state* mrb, const cJSON* node) {
  if (cJSON_IsObject(node)) {
    mrb_value hash = mrb_hash_new(mrb);
    int arena = mrb_gc_arena_save(mrb);
    for (const cJSON* child = node->child; child; child = child->next) {
      mrb_hash_set(mrb, hash, mrb_str_new_cstr(mrb, child->string), ruby_from_json(mrb, child));
      mrb_gc_arena_restore(mrb, arena);
    }
    return hash;
  }
  if (cJSON_IsArray(node)) {
    mrb_value array = mrb_ary_new(mrb);
    int arena = mrb_gc_arena_save(mrb);
    for (const cJSON* child = node->child; child; child = child->next) {
      mrb_ary_push(mrb, array, ruby_from_json(mrb, child));
      mrb_gc_arena_restore(mrb, arena);
    }
    return array;
  }
  if (cJSON_IsString(node)) return mrb_str_new_cstr(mrb, node->valuestring);
  if (cJSON_IsNumber(node)) {
    double d = node->valuedouble;
    if (d == std::floor(d) && std::fabs(d) < 9007199254740992.0) return mrb_int_value(mrb, static_cast<mrb_int>(d));
    return mrb_float_value(mrb, d);
  }
  if (cJSON_IsTrue(node)) return mrb_true_value();
  if (cJSON_IsFalse(node)) return mrb_false_value();
  return mrb_nil_value();
}

mrb_value ruby_parse_json(mrb_state* mrb, std::string_view text) {
  mrb_value result = mrb_nil_value();
  mrb_bool failed = false;
  bool malformed = false;
  {
    RunawayGuard::Unstoppable hold;  // cJSON's memory: freed here, whatever happens
    json::Ptr tree = json::parse(text);
    malformed = !tree;
    // Building may raise (memory cap): convert under protection so the tree is freed either way.
    Conversion conversion{tree.get()};
    if (tree) result = mrb_protect_error(mrb, convert, &conversion, &failed);
  }
  if (malformed) {
    RClass* json_module = mrb_module_get(mrb, "JSON");
    mrb_raise(mrb, mrb_class_get_under(mrb, json_module, "ParserError"), "malformed JSON");
  }
  if (failed) mrb_exc_raise(mrb, result);
  return result;
}

json::Ptr json_from_ruby(mrb_state* mrb, mrb_value value, std::string& error) {
  error.clear();
  Builder builder{error};
  return json::Ptr(builder.build(mrb, value, 0));
}

}  // namespace raptor::script
