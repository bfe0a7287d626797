#include "script/interpreter.h"

#include <mruby/error.h>

#include <iterator>

// Each compiled-in gem's start and finish, as libmruby.a's generated gem_init.c defines them (not
// in mruby's headers): GENERATED_TMP_mrb_<gem>_gem_init / _gem_final. A libmruby.a without one
// of these gems fails to link here; a gem it adds is simply not started.
#define RAPTOR_GEM(name)                                              \
  extern "C" void GENERATED_TMP_mrb_mruby_##name##_gem_init(mrb_state*); \
  extern "C" void GENERATED_TMP_mrb_mruby_##name##_gem_final(mrb_state*);
#define RAPTOR_GEMS(X)                                                                                 \
  X(compar_ext) X(enum_ext) X(string_ext) X(numeric_ext) X(array_ext) X(hash_ext) X(range_ext)          \
  X(proc_ext) X(symbol_ext) X(object_ext) X(fiber) X(enumerator) X(enum_lazy) X(toplevel_ext)           \
  X(kernel_ext) X(class_ext) X(pack) X(sprintf) X(time) X(struct) X(random) X(math) X(complex)          \
  X(rational) X(metaprog) X(method)
RAPTOR_GEMS(RAPTOR_GEM)

namespace raptor::script {
namespace {

struct Gem {
  void (*start)(mrb_state*);
  void (*finish)(mrb_state*);
};

// The order of libmruby.a's mrb_init_mrbgems (a gem after those it needs), less io, socket,
// objectspace, print and eval. Fiber stays: Enumerator is built on it (sandbox.rb removes the
// constant, as before).
#define RAPTOR_GEM_ENTRY(name) {GENERATED_TMP_mrb_mruby_##name##_gem_init, GENERATED_TMP_mrb_mruby_##name##_gem_final},
constexpr Gem kGems[] = {RAPTOR_GEMS(RAPTOR_GEM_ENTRY)};

void finish_gems(mrb_state* mrb) {  // at mrb_close, the last started first
  for (auto g = std::rbegin(kGems); g != std::rend(kGems); ++g) g->finish(mrb);
}

mrb_value start_gems(mrb_state* mrb, void*) {
  for (const Gem& g : kGems) g.start(mrb);
  mrb_state_atexit(mrb, finish_gems);
  return mrb_nil_value();
}

}  // namespace

mrb_state* open_interpreter(mrb_allocf allocate, void* allocator) {
  mrb_state* mrb = mrb_open_core(allocate, allocator);
  if (!mrb) return nullptr;
  mrb_bool failed = false;
  mrb_protect_error(mrb, start_gems, nullptr, &failed);
  if (failed) {
    mrb_close(mrb);
    return nullptr;
  }
  mrb_gc_arena_restore(mrb, 0);
  return mrb;
}

}  // namespace raptor::script
