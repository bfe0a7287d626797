// One sandboxed mruby interpreter: the Ruby of raptor.rb and its hooks runs here.
//
// A Vm is created with mrblib/ already loaded (the sandbox closes files, sockets, processes and
// run-time eval; the DSL and helpers are defined) and then loads the operator's file. Every call
// into Ruby goes through call(): a time budget (RunawayGuard), a memory cap (a counting
// allocator), and exceptions turned into "file:line: message" rather than crashes.
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
  size_t memory_used() const { return used_; }

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
  static void* allocate(mrb_state* mrb, void* p, size_t size, void* self);
  bool compile_and_run(struct CompileJob& job, std::string& error);

  VmLimits limits_;
  size_t used_ = 0;
  bool capped_ = false;  // the cap applies once the interpreter and mrblib are set up
  mrb_state* mrb_ = nullptr;
  std::unique_ptr<RunawayGuard> guard_;
  std::vector<std::string> files_;  // loaded file names, to find the user's frame in backtraces
};

}  // namespace raptor::script
