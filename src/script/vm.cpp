#include "script/vm.h"

#include <mruby/array.h>
#include <mruby/compile.h>
#include <mruby/error.h>
#include <mruby/irep.h>
#include <mruby/proc.h>
#include <mruby/string.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "metrics/counters.h"
#include "script/helpers.h"
#include "script/hook_request.h"
#include "script/interpreter.h"
#include "script/runaway_guard.h"
#include "script/vm_memory.h"

extern "C" const uint8_t raptor_mrblib[];  // mrblib/*.rb, compiled by mrbc (see CMakeLists.txt)

namespace raptor::script {
namespace {

// Virtual size of the region holding scripts' instructions; pages are only used as filled.
constexpr size_t kCodeRegionBytes = 16u << 20;

// "file:line" of the first backtrace entry in one of the operator's files, else empty.
std::string user_location(mrb_state* mrb, mrb_value exc, const std::vector<std::string>& files) {
  mrb_value trace = mrb_exc_backtrace(mrb, exc);
  if (!mrb_array_p(trace)) return {};
  for (mrb_int i = 0; i < RARRAY_LEN(trace); ++i) {
    mrb_value entry = RARRAY_PTR(trace)[i];
    if (!mrb_string_p(entry)) continue;
    std::string_view e(RSTRING_PTR(entry), size_t(RSTRING_LEN(entry)));
    for (const auto& file : files) {
      if (e.size() <= file.size() || e.compare(0, file.size(), file) != 0 || e[file.size()] != ':') continue;
      size_t end = e.find(':', file.size() + 1);
      return std::string(e.substr(0, end));
    }
  }
  return {};
}

struct Describe {
  const std::vector<std::string>& files;
  mrb_protect_error_func* body;
  void* data;
  std::string* error;  // set when the body raised
};

// Runs the body, and describes what it raised while still under the time budget: describing
// calls #message, which the script may have defined.
mrb_value run_and_describe(mrb_state* mrb, void* p) {
  auto* d = static_cast<Describe*>(p);
  mrb_bool failed = false;
  mrb_value result = mrb_protect_error(mrb, d->body, d->data, &failed);
  if (!failed && mrb->exc) {  // mrb_top_run leaves an uncaught exception here instead
    result = mrb_obj_value(mrb->exc);
    mrb->exc = nullptr;
    failed = true;
  }
  if (!failed) return result;
  // mruby's pre-allocated errors are described without their backtrace: unpacking the one a
  // SystemStackError keeps crashed once in mruby's GC under ASan (not reproduced since), and at
  // the memory cap unpacking would only allocate again.
  if (mrb_obj_ptr(result) == mrb->nomem_err) {
    *d->error = "memory cap reached (NoMemoryError)";
    return result;
  }
  if (mrb_obj_ptr(result) == mrb->stack_err) {
    *d->error = std::string("stack level too deep (") + mrb_obj_classname(mrb, result) + ")";
    return result;
  }
  mrb_value message = mrb_funcall(mrb, result, "message", 0);
  std::string text = mrb_string_p(message) ? std::string(RSTRING_PTR(message), size_t(RSTRING_LEN(message))) : "";
  // A message that names its file:line already (Verdict.normalize names the hook's) keeps only
  // that one: a backtrace taken after the hook returned points at no line of it.
  bool located = false;
  for (const auto& file : d->files) located = located || text.rfind(file + ":", 0) == 0;
  std::string where = located ? "" : user_location(mrb, result, d->files);
  *d->error = (where.empty() ? "" : where + ": ") + text + " (" + mrb_obj_classname(mrb, result) + ")";
  return result;
}

}  // namespace

Vm::Vm(VmLimits limits) : limits_(limits) { open(); }

void Vm::open() {
  memory_ = std::make_unique<VmMemory>(limits_.memory_bytes);
  mrb_ = open_interpreter(VmMemory::allocate, memory_.get());
  if (!mrb_) throw std::runtime_error("cannot create a Ruby interpreter");
  guard_ = std::make_unique<RunawayGuard>(mrb_, kCodeRegionBytes);
  define_helpers(mrb_);
  define_hook_requests(mrb_);
  mrb_load_irep(mrb_, raptor_mrblib);
  if (mrb_->exc) throw std::runtime_error("mrblib failed to load");  // a build defect
  if (!guard_->adopt_loaded_code()) throw std::runtime_error("mruby's library does not fit the script region");
  memory_->enforce_cap();
}

Vm::~Vm() {
  mrb_close(mrb_);
  guard_.reset();  // after mrb_close: the ireps it frees point into the guard's region
}

size_t Vm::memory_used() const { return memory_->used(); }

struct CompileJob {
  std::string_view source;
  const std::string* name;
  RProc* proc = nullptr;
  std::string error;
};

namespace {

mrb_value compile(mrb_state* mrb, void* p) {
  auto* job = static_cast<CompileJob*>(p);
  mrbc_context* cx = mrbc_context_new(mrb);
  mrbc_filename(mrb, cx, job->name->c_str());
  cx->capture_errors = TRUE;  // else the parser prints to stderr
  cx->no_exec = TRUE;
  mrb_parser_state* parser = mrb_parse_nstring(mrb, job->source.data(), job->source.size(), cx);
  mrbc_context_free(mrb, cx);
  if (!parser) {
    job->error = *job->name + ": cannot be parsed (out of memory)";
    return mrb_nil_value();
  }
  if (parser->nerr > 0) {
    const auto& e = parser->error_buffer[0];
    job->error = *job->name + ":" + std::to_string(e.lineno) + ": " + (e.message ? e.message : "syntax error");
    mrb_parser_free(parser);
    return mrb_nil_value();
  }
  job->proc = mrb_generate_code(mrb, parser);
  mrb_parser_free(parser);
  if (!job->proc) job->error = *job->name + ": cannot be compiled";
  return job->proc ? mrb_obj_value(job->proc) : mrb_nil_value();
}

mrb_value run_top(mrb_state* mrb, void* p) {
  return mrb_top_run(mrb, static_cast<RProc*>(p), mrb_top_self(mrb), 0);
}

}  // namespace

bool Vm::compile_and_run(CompileJob& job, std::string& error) {
  int arena = mrb_gc_arena_save(mrb_);
  mrb_bool failed = false;
  mrb_value raised = mrb_protect_error(mrb_, compile, &job, &failed);
  if (failed || !job.proc) {
    error = job.error.empty() ? *job.name + ": cannot be compiled (" + mrb_obj_classname(mrb_, raised) + ")" : job.error;
    mrb_gc_arena_restore(mrb_, arena);
    return false;
  }
  bool adopted = guard_->adopt(const_cast<mrb_irep*>(job.proc->body.irep), true);
  if (!adopted) {
    error = *job.name + ": too much code for the script region";
    mrb_gc_arena_restore(mrb_, arena);
    return false;
  }
  files_.push_back(*job.name);
  Result r = call(run_top, job.proc, limits_.load_budget_ms);
  mrb_gc_arena_restore(mrb_, arena);
  // mruby keeps a finished script's top-level locals on the root stack (for irb); drop them, or
  // a file that failed at the memory cap would keep the VM full.
  mrb_context* root = mrb_->root_c;
  if (mrb_->c == root && root->ci == root->cibase)
    for (mrb_value* slot = root->stbase + 1; slot < root->stend; ++slot) *slot = mrb_nil_value();
  if (!r.ok) error = r.error;
  return r.ok;
}

bool Vm::load_file(const std::string& path, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in.is_open()) {
    error = path + ": cannot read: " + strerror(errno);
    return false;
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return load_source(text, path, error);
}

bool Vm::load_source(std::string_view source, const std::string& name, std::string& error) {
  CompileJob job;
  job.source = source;
  job.name = &name;
  if (!compile_and_run(job, error)) return false;
  sources_.emplace_back(name, std::string(source));
  return true;
}

// The abandoned interpreter is not closed (mrb_close would walk structures a C method may have
// left half-updated): its memory goes whole, at the next call from outside (loading the files
// again calls too, hence the local until then).
void Vm::replace(std::string& error) {
  guard_.reset();
  std::unique_ptr<VmMemory> abandoned = std::move(memory_);
  files_.clear();
  open();
  for (const auto& [name, text] : sources_) {
    CompileJob job;
    job.source = text;
    job.name = &name;
    std::string failed;
    if (!compile_and_run(job, failed)) error += "; loading it again failed: " + failed;
  }
  abandoned_ = std::move(abandoned);
}

Vm::Result Vm::call(mrb_protect_error_func* body, void* data, int budget_ms) {
  abandoned_.reset();
  Result r;
  std::string raised;
  Describe describe{files_, body, data, &raised};
  metrics::HookTimer timer;
  RunawayGuard::Outcome out = guard_->run(run_and_describe, &describe, budget_ms);
  if (!out.refused.empty()) {
    r.error = out.refused;
  } else if (out.timed_out) {
    r.timed_out = true;
    r.error = (out.where.empty() ? "" : out.where + ": ") + "stopped after its time budget of " +
              std::to_string(budget_ms) + " ms";
    if (out.abandoned) {
      r.error += " inside a C method; the Ruby VM was replaced";
      replace(r.error);
    }
  } else if (out.failed) {  // describing the error raised in turn
    r.error = "error while reporting a script error (" + std::string(mrb_obj_classname(mrb_, out.value)) + ")";
  } else if (!raised.empty()) {
    r.error = raised;
  } else {
    r.ok = true;
    r.value = out.value;
  }
  timer.done(r.ok, r.timed_out);
  return r;
}

namespace {

struct RaptorCall {
  const char* method;
  std::vector<mrb_value>* args;
};

mrb_value call_module(mrb_state* mrb, void* p) {
  auto* c = static_cast<RaptorCall*>(p);
  mrb_value raptor = mrb_obj_value(mrb_module_get(mrb, "Raptor"));
  return mrb_funcall_argv(mrb, raptor, mrb_intern_cstr(mrb, c->method), static_cast<mrb_int>(c->args->size()), c->args->data());
}

}  // namespace

Vm::Result Vm::call_raptor(const char* method, std::vector<mrb_value> args) {
  RaptorCall c{method, &args};
  return call(call_module, &c, limits_.hook_budget_ms);
}

}  // namespace raptor::script
