// Stops a Ruby hook that runs past its time budget, leaving its VM usable.
//
// Debian's mruby has no debug hook and no interrupt API, so the guard works on the code itself
// (proven in shared/reference/stack-poc/guard.cpp): the instructions of every script the VM
// loads are moved into a private memory region. When a call has used its budget of CPU time, a
// watchdog thread makes the region unreadable; the VM faults on its next instruction fetch, which is a
// safe point (no allocation in flight), and the SIGSEGV handler longjmps into the catch of the
// mrb_protect_error that started the call. Ruby code cannot rescue that. C methods that never
// re-enter script code (e.g. "x" * 10**9) are bounded by the VM's memory cap instead.
//
// One guard per VM; a VM, and so its guard, is used by one thread at a time.
#pragma once
#include <mruby.h>
#include <mruby/error.h>
#include <mruby/irep.h>

#include <csignal>
#include <chrono>
#include <ctime>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace raptor::script {

class RunawayGuard {
 public:
  RunawayGuard(mrb_state* mrb, size_t region_bytes);
  // Unmaps the region: destroy the guard after mrb_close(), which frees the ireps pointing into it.
  ~RunawayGuard();
  RunawayGuard(const RunawayGuard&) = delete;
  RunawayGuard& operator=(const RunawayGuard&) = delete;

  // Moves the instructions of `irep` and of every irep nested in it into the region; false when
  // the region is full (the irep is then left as it was).
  bool adopt(mrb_irep* irep);

  struct Outcome {
    mrb_value value;   // the body's result, or the exception raised
    bool failed = false;
    bool timed_out = false;
    std::string where;  // "file:line" of the instruction a timed-out call was stopped at
  };
  // Calls `body` inside mrb_protect_error, stopped once it has run `budget_ms` of this thread's
  // CPU time.
  Outcome run(mrb_protect_error_func* body, void* data, int budget_ms);

 private:
  struct Code {  // one adopted irep's instructions in the region
    const char* begin;
    const char* end;
    const mrb_irep* irep;
  };
  static mrb_value guarded(mrb_state* mrb, void* frame);
  void watch();
  std::string locate(uintptr_t address) const;

  mrb_state* mrb_;
  char* region_ = nullptr;
  size_t region_bytes_;
  size_t used_ = 0;
  std::vector<Code> code_;
  mrb_value timeout_error_;

  // The watchdog: armed for one call at a time.
  std::mutex mutex_;
  std::condition_variable changed_;
  bool armed_ = false, fired_ = false, quit_ = false;
  uint64_t call_ = 0;
  std::chrono::steady_clock::time_point deadline_;  // when the budget would run out if never descheduled
  clockid_t caller_cpu_{};                          // the calling thread's CPU clock
  int64_t cpu_at_start_ns_ = 0, budget_ns_ = 0;
  std::thread watchdog_;

  friend void on_fault(int, siginfo_t*, void*);
};

}  // namespace raptor::script
