// Stops a Ruby hook that runs past its time budget.
//
// Debian's mruby has no debug hook and no interrupt API, so the guard works on the code itself
// (proven in shared/reference/stack-poc/guard.cpp): the instructions of every script the VM
// loads, and of mruby's own Ruby library, are moved into a private memory region. A call is timed
// by a CPU-time timer of the calling thread (timer_create on CLOCK_THREAD_CPUTIME_ID, one per
// thread, signalling that thread with SIGXCPU). When the call has used its budget, the handler
// makes the region unreadable; the VM faults on its next instruction fetch, which is a safe point
// (no allocation in flight), and the SIGSEGV handler longjmps into the catch of the
// mrb_protect_error that started the call. Ruby code cannot rescue that, and the VM stays usable.
//
// A C method fetches no instruction (a quadratic String#index on megabytes, a sort of millions).
// If the call is still running after a second budget, the handler jumps straight back to run(),
// wherever the C code was, except inside an Unstoppable section (the VM's allocator, Raptor's
// helpers, and the C library routines mruby calls that take a process-wide lock: malloc's, the
// time zone's), where it tries again after another millisecond of CPU. The interpreter's
// structures may then be half-updated: the outcome says `abandoned`, and the VM must be thrown
// away without mrb_close (VmMemory frees it whole).
//
// No thread of its own: a watchdog thread per VM cost a thread's start and stop with every VM
// (the config file's, each worker's, each reload's) and a wake-up of another core with every call.
// One guard per VM; a VM, and so its guard, is used by one thread at a time.
#pragma once
#include <mruby.h>
#include <mruby/error.h>
#include <mruby/irep.h>

#include <csignal>
#include <cstddef>
#include <cstdint>
#include <memory_resource>
#include <string>
#include <unordered_map>
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
  // the region is full (the irep is then left as it was). `user`: the operator's code, where a
  // timeout is reported.
  bool adopt(mrb_irep* irep, bool user);
  // Puts every Ruby method and block the VM holds so far under the guard too: mruby's own library
  // (Kernel#loop, Range#each, Integer#times, Symbol#to_proc...) and mrblib/, or a hook could spin
  // inside them unseen. Their ireps are static data shared by every VM (and read-only), so each
  // proc is pointed at a copy whose instructions are in this VM's region. False when it is full.
  bool adopt_loaded_code();

  struct Outcome {
    mrb_value value;   // the body's result, or the exception raised
    bool failed = false;
    bool timed_out = false;
    bool abandoned = false;  // stopped inside a C method: the interpreter can no longer be used
    std::string where;  // "file:line" of the operator's code a timed-out call was stopped in
    std::string refused;  // why the call was not made (this thread's CPU timer could not be set)
  };
  // Calls `body` inside mrb_protect_error, stopped once it has run `budget_ms` of this thread's
  // CPU time.
  Outcome run(mrb_protect_error_func* body, void* data, int budget_ms);

  // While one exists on a thread, a call on that thread is not interrupted inside C code (the
  // timer fires again). Only around code that cannot raise: a raise would skip the destructor,
  // leaving the rest of that call unstoppable in C (run() resets the count for the next one).
  struct Unstoppable {
    Unstoppable();
    ~Unstoppable();
  };

 private:
  struct Code {  // one irep of the operator's code: its instructions in the region
    const char* begin;
    const char* end;
    const mrb_irep* irep;
  };
  // With the region writable:
  bool adopt_tree(mrb_irep* irep, bool user);
  const mrb_code* copy_in(const mrb_irep* irep, bool user);
  const mrb_irep* guarded(const mrb_irep* irep);
  static mrb_value guarded(mrb_state* mrb, void* frame);
  // "file:line" of the innermost of these instruction addresses that is in the operator's code.
  std::string locate(const uintptr_t* addresses, int count) const;
  bool in_region(const void* p) const { return p >= region_ && p < region_ + region_bytes_; }

  mrb_state* mrb_;
  char* region_ = nullptr;
  size_t region_bytes_;
  size_t used_ = 0;
  std::vector<Code> code_;  // where a timeout is reported
  // The guarded copies of static ireps (mruby's library has thousands), the arrays of their
  // nested ones, and the map from the originals: all in one arena, freed with the guard, rather
  // than three allocations per irep with every new VM.
  std::pmr::monotonic_buffer_resource arena_{96u << 10};  // Debian's mruby: ~500 ireps, ~70 KB
  std::pmr::unordered_map<const mrb_irep*, mrb_irep*> copies_{1024, &arena_};
  mrb_value timeout_error_;

  friend void on_fault(int, siginfo_t*, void*);
  friend void on_timer(int, siginfo_t*, void*);
};

}  // namespace raptor::script
