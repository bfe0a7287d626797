// One sandboxed mruby interpreter: the Ruby of raptor.rb and its hooks runs here.
//
// A Vm is created with mrblib/ already loaded (the sandbox closes files, sockets, processes and
// run-time eval; the DSL and helpers are defined) and then loads the operator's file. Every call
// into Ruby goes through call(): a time budget (RunawayGuard), a memory cap (VmMemory), and
// exceptions turned into "file:line: message" rather than crashes.
//
// A call the guard had to stop inside a C method leaves the interpreter unusable: call() then
// replaces it with a fresh one that loads the same files again (their text as first loaded), so
// the next call finds the same hooks. mrb() changes then; the old interpreter is freed at the
// start of the next call, so a caller may still restore its GC arena on the pointer it had.
//
// Not thread-safe: one Vm per worker thread, used by that thread only (it may be built on
// another thread before the worker starts).
#pragma once
#include <mruby.h>
#include <mruby/error.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace raptor::script {

class RunawayGuard;
class VmMemory;

struct VmLimits {
  int hook_budget_ms = 50;          // per hook call
  int load_budget_ms = 1000;        // running the whole config file once
  size_t memory_bytes = 64u << 20;  // everything the VM allocates
};

class Vm {
 public:
  explicit Vm(VmLimits limits = {});
  ~Vm();
  Vm(const Vm&) = delete;
  Vm& operator=(const Vm&) = delete;

  mrb_state* mrb() const { return mrb_; }
  const VmLimits& limits() const { return limits_; }
  size_t memory_used() const;

  // Compiles and runs a Ruby file, or `source` under the file name `name`, within the load
  // budget. False with "file:line: message" in `error`.
  bool load_file(const std::string& path, std::string& error);
  bool load_source(std::string_view source, const std::string& name, std::string& error);

  struct Result {
    bool ok = false;
    bool timed_out = false;
    mrb_value value;    // when ok; valid until the next call
    std::string error;  // when not ok: "file:line: message (ErrorClass)" where a line is known
  };
  // Runs `body` (which calls into Ruby) with the budget; user code only runs inside such calls.
  Result call(mrb_protect_error_func* body, void* data, int budget_ms);
  // Calls Raptor.<method>(*args) with the hook budget.
  Result call_raptor(const char* method, std::vector<mrb_value> args);

 private:
  void open();  // a fresh interpreter with mrblib/ loaded
  bool compile_and_run(struct CompileJob& job, std::string& error);
  void replace(std::string& error);  // after a call abandoned inside C code

  VmLimits limits_;
  std::unique_ptr<VmMemory> memory_;
  mrb_state* mrb_ = nullptr;
  std::unique_ptr<RunawayGuard> guard_;
  std::unique_ptr<VmMemory> abandoned_;  // an abandoned interpreter, freed at the next call
  std::vector<std::string> files_;  // loaded file names, to find the user's frame in backtraces
  std::vector<std::pair<std::string, std::string>> sources_;  // (name, text) loaded, to replace
};

}  // namespace raptor::script
