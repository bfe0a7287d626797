#include "script/runaway_guard.h"

#include <mruby/debug.h>
#include <mruby/error.h>
#include <mruby/gc.h>
#include <mruby/proc.h>
#include <mruby/string.h>
#include <mruby/throw.h>
#include <pthread.h>
#include <sys/mman.h>
#include <ucontext.h>

#include <csetjmp>
#include <csignal>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace raptor::script {
namespace {

// The call this thread is running under a guard; read by the signal handlers.
struct ActiveCall {
  RunawayGuard* guard = nullptr;
  uint64_t id = 0;
  struct mrb_jmpbuf* jump = nullptr;  // mrb_protect_error's catch; null outside the body
  sigjmp_buf abandon{};               // run() itself, for a call stopped inside C code
  // Where it was stopped: the faulting instruction, then the call sites of the frames below it
  // (the innermost in the operator's code is reported).
  static constexpr int kFrames = 64;
  uintptr_t frames[kFrames] = {};
  int nframes = 0;
  bool timed_out = false;
  bool abandoned = false;
};
thread_local ActiveCall* t_call = nullptr;
thread_local volatile int t_unstoppable = 0;  // Unstoppable sections the thread is in (read by on_overrun)

// Where a call was stopped: the instruction or C code it was at, and the call sites of the frames
// below (read-only walk of the VM's call stack; no allocation, so safe in a signal handler).
void record_frames(ActiveCall* call, mrb_state* mrb, uintptr_t at) {
  call->frames[call->nframes++] = at;
  mrb_context* c = mrb->c;
  for (mrb_callinfo* ci = c->ci; ci >= c->cibase && call->nframes < ActiveCall::kFrames; --ci)
    if (ci->pc) call->frames[call->nframes++] = reinterpret_cast<uintptr_t>(ci->pc);
}

void install(int sig, void (*handler)(int, siginfo_t*, void*), struct sigaction* previous) {
  struct sigaction current {};
  sigaction(sig, nullptr, &current);
  if ((current.sa_flags & SA_SIGINFO) && current.sa_sigaction == handler) return;
  struct sigaction action {};
  action.sa_sigaction = handler;
  action.sa_flags = SA_SIGINFO | SA_NODEFER;  // NODEFER: we leave by longjmp, not by returning
  sigemptyset(&action.sa_mask);
  sigaction(sig, &action, previous);
}

int64_t cpu_ns(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

struct sigaction g_previous;  // the SIGSEGV handler before ours, for faults that are not ours
std::mutex g_install_mutex;

}  // namespace

// Not in the anonymous namespace: RunawayGuard befriends it.
void on_fault(int sig, siginfo_t* info, void* context) {
  ActiveCall* call = t_call;
  auto address = reinterpret_cast<char*>(info->si_addr);
  if (call && call->guard->in_region(address)) {
    mprotect(call->guard->region_, call->guard->region_bytes_, PROT_READ);
    if (!call->jump) return;  // the watchdog fired as the call ended: just carry on
    record_frames(call, call->guard->mrb_, reinterpret_cast<uintptr_t>(address));
    call->timed_out = true;
    call->guard->mrb_->exc = mrb_obj_ptr(call->guard->timeout_error_);
    struct mrb_jmpbuf* jump = call->jump;
    call->jump = nullptr;
    MRB_THROW(jump);
  }
  // Not ours: a real crash. Hand it to whoever handled SIGSEGV before us (e.g. ASan).
  if (g_previous.sa_flags & SA_SIGINFO) {
    g_previous.sa_sigaction(sig, info, context);
  } else if (g_previous.sa_handler != SIG_IGN && g_previous.sa_handler != SIG_DFL) {
    g_previous.sa_handler(sig);
  } else {
    signal(sig, SIG_DFL);  // returning re-runs the faulting instruction, which now kills us
  }
}

// SIGXCPU from the watchdog: the call has run a second budget without fetching an instruction.
void on_overrun(int, siginfo_t*, void* context) {
  ActiveCall* call = t_call;
  if (!call || !call->jump || call->id != call->guard->interrupting_.load()) return;  // ended already
  if (t_unstoppable > 0) return;  // the watchdog sends it again shortly
  auto* uc = static_cast<ucontext_t*>(context);
#if defined(__x86_64__)
  auto at = uintptr_t(uc->uc_mcontext.gregs[REG_RIP]);
#elif defined(__aarch64__)
  auto at = uintptr_t(uc->uc_mcontext.pc);
#else
  uintptr_t at = 0;
#endif
  record_frames(call, call->guard->mrb_, at);
  call->timed_out = call->abandoned = true;
  call->jump = nullptr;
  siglongjmp(call->abandon, 1);
}

RunawayGuard::Unstoppable::Unstoppable() { ++t_unstoppable; }
RunawayGuard::Unstoppable::~Unstoppable() { --t_unstoppable; }

}  // namespace raptor::script

// The C library routines that libmruby.a calls and that take a process-wide lock (the time zone's,
// malloc's; snprintf may allocate) must not be interrupted halfway: the linker sends those calls
// here (--wrap, CMakeLists.txt). None of them raises, so the Unstoppable always ends.
extern "C" {
using raptor::script::RunawayGuard;
struct tm* __real_localtime_r(const time_t*, struct tm*);
struct tm* __real_gmtime_r(const time_t*, struct tm*);
time_t __real_mktime(struct tm*);
size_t __real_strftime(char*, size_t, const char*, const struct tm*);
void* __real_realloc(void*, size_t);
void __real_free(void*);

struct tm* __wrap_localtime_r(const time_t* t, struct tm* out) {
  RunawayGuard::Unstoppable hold;
  return __real_localtime_r(t, out);
}
struct tm* __wrap_gmtime_r(const time_t* t, struct tm* out) {
  RunawayGuard::Unstoppable hold;
  return __real_gmtime_r(t, out);
}
time_t __wrap_mktime(struct tm* tm) {
  RunawayGuard::Unstoppable hold;
  return __real_mktime(tm);
}
size_t __wrap_strftime(char* out, size_t size, const char* format, const struct tm* tm) {
  RunawayGuard::Unstoppable hold;
  return __real_strftime(out, size, format, tm);
}
int __wrap_snprintf(char* out, size_t size, const char* format, ...) {
  RunawayGuard::Unstoppable hold;
  va_list args;
  va_start(args, format);
  int n = vsnprintf(out, size, format, args);
  va_end(args);
  return n;
}
void* __wrap_realloc(void* p, size_t size) {
  RunawayGuard::Unstoppable hold;
  return __real_realloc(p, size);
}
void __wrap_free(void* p) {
  RunawayGuard::Unstoppable hold;
  __real_free(p);
}
}

namespace raptor::script {

RunawayGuard::RunawayGuard(mrb_state* mrb, size_t region_bytes) : mrb_(mrb), region_bytes_(region_bytes) {
  // Installed by every guard unless already in place: something may have replaced it since (a
  // test framework does, per test case).
  {
    std::lock_guard<std::mutex> lock(g_install_mutex);
    install(SIGSEGV, on_fault, &g_previous);
    install(SIGXCPU, on_overrun, nullptr);
  }
  void* region = mmap(nullptr, region_bytes_, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  region_ = region == MAP_FAILED ? nullptr : static_cast<char*>(region);
  timeout_error_ = mrb_exc_new_str(mrb_, E_RUNTIME_ERROR, mrb_str_new_lit(mrb_, "script timeout"));
  mrb_gc_register(mrb_, timeout_error_);
  // The watchdog blocks every signal: a process-directed one (SIGHUP, SIGTERM) must reach the
  // thread that waits for it, not take its default action here.
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  watchdog_ = std::thread([this] { watch(); });
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
}

RunawayGuard::~RunawayGuard() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    quit_ = true;
  }
  changed_.notify_one();
  watchdog_.join();
  if (region_) munmap(region_, region_bytes_);
}

const mrb_code* RunawayGuard::copy_in(const mrb_irep* irep, bool user) {
  // iseq and the catch-handler table that follows it are one allocation in mruby 3.1.
  size_t bytes = irep->ilen * sizeof(mrb_code) + irep->clen * sizeof(struct mrb_irep_catch_handler);
  size_t rounded = (bytes + 15) & ~size_t(15);
  if (!region_ || used_ + rounded > region_bytes_) return nullptr;
  char* at = region_ + used_;
  memcpy(at, irep->iseq, bytes);  // the caller made the region writable
  used_ += rounded;
  code_.push_back({at, at + bytes, irep, user});
  return reinterpret_cast<const mrb_code*>(at);
}

bool RunawayGuard::adopt(mrb_irep* irep, bool user) {
  mprotect(region_, region_bytes_, PROT_READ | PROT_WRITE);  // once: mruby's library has thousands
  bool adopted = adopt_tree(irep, user);
  mprotect(region_, region_bytes_, PROT_READ);
  return adopted;
}

bool RunawayGuard::adopt_tree(mrb_irep* irep, bool user) {
  if (in_region(irep->iseq)) return true;
  const mrb_code* at = copy_in(irep, user);
  if (!at) return false;
  if (!(irep->flags & MRB_ISEQ_NO_FREE)) mrb_free(mrb_, const_cast<mrb_code*>(irep->iseq));
  irep->iseq = at;
  irep->flags |= MRB_ISEQ_NO_FREE;
  for (int i = 0; i < irep->rlen; ++i)
    if (irep->reps[i] && !adopt_tree(const_cast<mrb_irep*>(irep->reps[i]), user)) return false;
  return true;
}

// The irep a proc should run: `irep` itself once adopted in place, or a guarded copy of a static
// one (mruby never frees those: MRB_IREP_STATIC; this guard does). Null when the region is full.
const mrb_irep* RunawayGuard::guarded(const mrb_irep* irep) {
  if (in_region(irep->iseq)) return irep;
  if (!(irep->flags & MRB_IREP_NO_FREE)) return adopt_tree(const_cast<mrb_irep*>(irep), false) ? irep : nullptr;
  auto found = copies_.find(irep);
  if (found != copies_.end()) return found->second.get();
  auto copy = std::make_unique<mrb_irep>(*irep);
  copy->iseq = copy_in(copy.get(), false);
  if (!copy->iseq) return nullptr;
  auto reps = std::make_unique<const mrb_irep*[]>(irep->rlen);
  for (int i = 0; i < irep->rlen; ++i)
    if (irep->reps[i] && !(reps[i] = guarded(irep->reps[i]))) return nullptr;
  copy->reps = reps.get();
  copy->flags |= MRB_IREP_STATIC;
  copied_reps_.push_back(std::move(reps));
  return copies_.emplace(irep, std::move(copy)).first->second.get();
}

bool RunawayGuard::adopt_loaded_code() {
  struct Walk {
    RunawayGuard* guard;
    bool ok = true;
  } walk{this};
  auto each = [](mrb_state* mrb, RBasic* obj, void* p) -> int {
    auto* w = static_cast<Walk*>(p);
    if (obj->tt != MRB_TT_PROC || mrb_object_dead_p(mrb, obj)) return MRB_EACH_OBJ_OK;
    auto* proc = reinterpret_cast<RProc*>(obj);
    if (MRB_PROC_CFUNC_P(proc) || !proc->body.irep) return MRB_EACH_OBJ_OK;
    const mrb_irep* irep = w->guard->guarded(proc->body.irep);
    if (!irep) {
      w->ok = false;
      return MRB_EACH_OBJ_BREAK;
    }
    proc->body.irep = irep;
    return MRB_EACH_OBJ_OK;
  };
  mprotect(region_, region_bytes_, PROT_READ | PROT_WRITE);
  mrb_objspace_each_objects(mrb_, each, &walk);
  mprotect(region_, region_bytes_, PROT_READ);
  return walk.ok;
}

mrb_value RunawayGuard::guarded(mrb_state* mrb, void* frame) {
  auto* f = static_cast<std::pair<mrb_protect_error_func*, void*>*>(frame);
  t_call->jump = mrb->jmp;  // set by the mrb_protect_error in run()
  mrb_value result = f->first(mrb, f->second);
  t_call->jump = nullptr;
  return result;
}

RunawayGuard::Outcome RunawayGuard::run(mrb_protect_error_func* body, void* data, int budget_ms) {
  ActiveCall call;
  call.guard = this;
  ActiveCall* outer = t_call;  // a guarded call never nests, but do not lose one if it did
  t_unstoppable = 0;           // left over only if an Unstoppable section was left by a raise
  {
    std::lock_guard<std::mutex> lock(mutex_);
    armed_ = true;
    call.id = ++call_;
    caller_ = pthread_self();
    pthread_getcpuclockid(caller_, &caller_cpu_);
    budget_ns_ = int64_t(budget_ms) * 1000000;
    cpu_at_start_ns_ = cpu_ns(caller_cpu_);
    deadline_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(budget_ms);
  }
  t_call = &call;
  changed_.notify_one();

  std::pair<mrb_protect_error_func*, void*> frame{body, data};
  mrb_bool failed = false;
  Outcome out;
  if (sigsetjmp(call.abandon, 0) == 0) {
    out.value = mrb_protect_error(mrb_, guarded, &frame, &failed);
  } else {  // from on_overrun: mruby's own catch is skipped, the interpreter is not touched again
    out.value = mrb_nil_value();
    failed = true;
  }

  {
    std::lock_guard<std::mutex> lock(mutex_);
    armed_ = false;
    interrupting_ = 0;
    if (fired_) mprotect(region_, region_bytes_, PROT_READ);
    fired_ = false;
  }
  t_call = outer;
  ActiveCall* volatile ended = &call;  // written by a signal handler: read from memory
  out.failed = failed;
  out.timed_out = ended->timed_out;
  out.abandoned = ended->abandoned;
  if (out.timed_out) out.where = locate(ended->frames, ended->nframes);
  return out;
}

void RunawayGuard::watch() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!quit_) {
    if (!armed_) {
      changed_.wait(lock);
      continue;
    }
    uint64_t call = call_;
    auto deadline = deadline_;
    bool ended = changed_.wait_until(lock, deadline, [&] { return quit_ || !armed_ || call_ != call; });
    if (ended) continue;
    // The budget is the caller's CPU time: while the machine runs other work, the call may need
    // longer on the clock, and waiting for a core must not fail it.
    int64_t left = budget_ns_ - (cpu_ns(caller_cpu_) - cpu_at_start_ns_);
    auto now = std::chrono::steady_clock::now();
    if (left > 0) {
      deadline_ = now + std::chrono::nanoseconds(left);
      continue;
    }
    if (!fired_) {
      // The VM faults at its next instruction fetch (on_fault). It gets a second budget for that.
      mprotect(region_, region_bytes_, PROT_NONE);
      fired_ = true;
      cpu_at_start_ns_ = cpu_ns(caller_cpu_);
      deadline_ = now + std::chrono::nanoseconds(budget_ns_);
      continue;
    }
    // Still no fault: the call is inside C code. Interrupt it (on_overrun), again every
    // millisecond while it is in an Unstoppable section.
    interrupting_ = call;
    pthread_kill(caller_, SIGXCPU);
    budget_ns_ = 0;
    deadline_ = now + std::chrono::milliseconds(1);
  }
}

std::string RunawayGuard::locate(const uintptr_t* addresses, int count) const {
  for (int i = 0; i < count; ++i) {
    for (const Code& c : code_) {
      auto begin = reinterpret_cast<uintptr_t>(c.begin), end = reinterpret_cast<uintptr_t>(c.end);
      if (!c.user || addresses[i] < begin || addresses[i] >= end) continue;
      auto pc = uint32_t(addresses[i] - begin);
      // Below the first, each address is a frame's saved pc: the instruction after its call,
      // which may start the next line. One byte back is inside the call itself.
      if (i > 0 && pc > 0) --pc;
      const char* file = mrb_debug_get_filename(mrb_, c.irep, pc);
      int32_t line = mrb_debug_get_line(mrb_, c.irep, pc);
      if (file) return std::string(file) + ":" + std::to_string(line);
    }
  }
  return {};
}

}  // namespace raptor::script
