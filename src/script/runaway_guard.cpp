#include "script/runaway_guard.h"

#include <mruby/debug.h>
#include <mruby/error.h>
#include <mruby/gc.h>
#include <mruby/proc.h>
#include <mruby/string.h>
#include <mruby/throw.h>
#include <sys/mman.h>
#include <ucontext.h>

#include <cerrno>
#include <csetjmp>
#include <csignal>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <mutex>
#include <new>

namespace raptor::script {
namespace {

// The call this thread is running under a guard; read by the signal handlers.
struct ActiveCall {
  RunawayGuard* guard = nullptr;
  struct mrb_jmpbuf* jump = nullptr;  // mrb_protect_error's catch; null outside the body
  sigjmp_buf abandon{};               // run() itself, for a call stopped inside C code
  // Where it was stopped: the faulting instruction, then the call sites of the frames below it
  // (the innermost in the operator's code is reported).
  static constexpr int kFrames = 64;
  uintptr_t frames[kFrames] = {};
  int nframes = 0;
  int64_t budget_ns = 0;
  bool closed = false;  // the budget ran out: the region is unreadable until run() ends
  bool timed_out = false;
  bool abandoned = false;
};
thread_local ActiveCall* t_call = nullptr;
thread_local volatile int t_unstoppable = 0;  // Unstoppable sections the thread is in (read by on_timer)

// This thread's CPU-time timer, which signals this thread (SIGXCPU) when it runs out. Made at the
// thread's first guarded call; a worker makes one call after another, so it lives with the thread.
class ThreadTimer {
 public:
  ~ThreadTimer() {
    if (made_) timer_delete(id_);
  }
  // False (errno set) when the kernel will not give one.
  bool make() {
    if (made_) return true;
    sigevent event{};
    event.sigev_notify = SIGEV_THREAD_ID;
    event.sigev_signo = SIGXCPU;
    event._sigev_un._tid = gettid();  // sigev_notify_thread_id, which glibc 2.36 does not name
    made_ = timer_create(CLOCK_THREAD_CPUTIME_ID, &event, &id_) == 0;
    return made_;
  }
  // Fires after `ns` more of this thread's CPU time; 0 disarms. Async-signal-safe (timer_settime).
  void set(int64_t ns) {
    itimerspec when{};
    when.it_value.tv_sec = time_t(ns / 1000000000);
    when.it_value.tv_nsec = long(ns % 1000000000);
    timer_settime(id_, 0, &when, nullptr);
  }

 private:
  timer_t id_{};
  bool made_ = false;
};
thread_local ThreadTimer t_timer;

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
  // NODEFER: we may leave by longjmp rather than by returning. RESTART: a system call that the
  // timer's first signal finds blocked (a hook's Raptor.log writing to a full pipe) goes on.
  action.sa_flags = SA_SIGINFO | SA_NODEFER | SA_RESTART;
  sigemptyset(&action.sa_mask);
  sigaction(sig, &action, previous);
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
    if (!call->jump) return;  // the budget ran out as the call ended: just carry on
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

// SIGXCPU from this thread's timer: the call has used its budget of CPU time. First the region
// is made unreadable (the VM faults at its next instruction fetch, on_fault) and the call gets a
// second budget for that; if it runs out too, the call is inside C code and ends here.
void on_timer(int, siginfo_t* info, void* context) {
  if (info->si_code != SI_TIMER) return;  // sent by kill() or for RLIMIT_CPU, not by our timer
  ActiveCall* call = t_call;
  if (!call || !call->jump) return;  // ended already
  if (!call->closed) {
    call->closed = true;
    mprotect(call->guard->region_, call->guard->region_bytes_, PROT_NONE);
    t_timer.set(call->budget_ns);
    return;
  }
  if (t_unstoppable > 0) {  // where it would leave a lock held: again after another millisecond
    t_timer.set(1000000);
    return;
  }
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
    install(SIGXCPU, on_timer, nullptr);
  }
  void* region = mmap(nullptr, region_bytes_, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  region_ = region == MAP_FAILED ? nullptr : static_cast<char*>(region);
  timeout_error_ = mrb_exc_new_str(mrb_, E_RUNTIME_ERROR, mrb_str_new_lit(mrb_, "script timeout"));
  mrb_gc_register(mrb_, timeout_error_);
}

RunawayGuard::~RunawayGuard() {
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
  if (user) code_.push_back({at, at + bytes, irep});
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
  if (found != copies_.end()) return found->second;
  // mrb_irep is a C struct: the arena's memory needs no destructor.
  auto* copy = new (arena_.allocate(sizeof(mrb_irep), alignof(mrb_irep))) mrb_irep(*irep);
  copy->iseq = copy_in(copy, false);
  if (!copy->iseq) return nullptr;
  auto** reps = static_cast<const mrb_irep**>(arena_.allocate(sizeof(mrb_irep*) * irep->rlen, alignof(mrb_irep*)));
  for (int i = 0; i < irep->rlen; ++i) {
    reps[i] = irep->reps[i] ? guarded(irep->reps[i]) : nullptr;
    if (irep->reps[i] && !reps[i]) return nullptr;
  }
  copy->reps = reps;
  copy->flags |= MRB_IREP_STATIC;
  copies_.emplace(irep, copy);
  return copy;
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
  t_timer.set(t_call->budget_ns);  // run() disarms it, however the body ends
  mrb_value result = f->first(mrb, f->second);
  t_call->jump = nullptr;
  return result;
}

RunawayGuard::Outcome RunawayGuard::run(mrb_protect_error_func* body, void* data, int budget_ms) {
  Outcome out;
  if (!t_timer.make()) {
    out.value = mrb_nil_value();
    out.failed = true;
    out.refused = std::string("not run: no CPU timer for the call (") + strerror(errno) + ")";
    return out;
  }
  ActiveCall call;
  call.guard = this;
  call.budget_ns = int64_t(budget_ms) * 1000000;
  ActiveCall* outer = t_call;  // a guarded call never nests, but do not lose one if it did
  t_unstoppable = 0;           // left over only if an Unstoppable section was left by a raise
  t_call = &call;

  std::pair<mrb_protect_error_func*, void*> frame{body, data};
  mrb_bool failed = false;
  if (sigsetjmp(call.abandon, 0) == 0) {
    out.value = mrb_protect_error(mrb_, guarded, &frame, &failed);
  } else {  // from on_timer: mruby's own catch is skipped, the interpreter is not touched again
    out.value = mrb_nil_value();
    failed = true;
  }
  t_timer.set(0);
  ActiveCall* volatile ended = &call;  // written by a signal handler: read from memory
  ended->jump = nullptr;               // a signal still on its way finds the call over
  if (ended->closed) mprotect(region_, region_bytes_, PROT_READ);
  t_call = outer;
  out.failed = failed;
  out.timed_out = ended->timed_out;
  out.abandoned = ended->abandoned;
  if (out.timed_out) out.where = locate(ended->frames, ended->nframes);
  return out;
}

std::string RunawayGuard::locate(const uintptr_t* addresses, int count) const {
  for (int i = 0; i < count; ++i) {
    for (const Code& c : code_) {
      auto begin = reinterpret_cast<uintptr_t>(c.begin), end = reinterpret_cast<uintptr_t>(c.end);
      if (addresses[i] < begin || addresses[i] >= end) continue;
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
