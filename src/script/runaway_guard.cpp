#include "script/runaway_guard.h"

#include <mruby/debug.h>
#include <mruby/error.h>
#include <mruby/string.h>
#include <mruby/throw.h>
#include <pthread.h>
#include <sys/mman.h>

#include <csignal>
#include <cstring>
#include <ctime>

namespace raptor::script {
namespace {

// The call this thread is running under a guard; read by the signal handler.
struct ActiveCall {
  RunawayGuard* guard;
  struct mrb_jmpbuf* jump;  // mrb_protect_error's catch; null outside the body
  uintptr_t fault = 0;
  bool timed_out = false;
};
thread_local ActiveCall* t_call = nullptr;

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
  if (call && address >= call->guard->region_ && address < call->guard->region_ + call->guard->region_bytes_) {
    mprotect(call->guard->region_, call->guard->region_bytes_, PROT_READ);
    if (!call->jump) return;  // the watchdog fired as the call ended: just carry on
    call->fault = reinterpret_cast<uintptr_t>(address);
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

RunawayGuard::RunawayGuard(mrb_state* mrb, size_t region_bytes) : mrb_(mrb), region_bytes_(region_bytes) {
  // Installed by every guard unless already in place: something may have replaced it since (a
  // test framework does, per test case).
  {
    std::lock_guard<std::mutex> lock(g_install_mutex);
    struct sigaction current {};
    sigaction(SIGSEGV, nullptr, &current);
    if (!(current.sa_flags & SA_SIGINFO) || current.sa_sigaction != on_fault) {
      struct sigaction action {};
      action.sa_sigaction = on_fault;
      action.sa_flags = SA_SIGINFO | SA_NODEFER;  // NODEFER: we leave by longjmp, not by returning
      sigemptyset(&action.sa_mask);
      sigaction(SIGSEGV, &action, &g_previous);
    }
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

bool RunawayGuard::adopt(mrb_irep* irep) {
  // iseq and the catch-handler table that follows it are one allocation in mruby 3.1.
  size_t bytes = irep->ilen * sizeof(mrb_code) + irep->clen * sizeof(struct mrb_irep_catch_handler);
  size_t rounded = (bytes + 15) & ~size_t(15);
  if (!region_ || used_ + rounded > region_bytes_) return false;
  char* at = region_ + used_;
  mprotect(region_, region_bytes_, PROT_READ | PROT_WRITE);
  memcpy(at, irep->iseq, bytes);
  mprotect(region_, region_bytes_, PROT_READ);
  if (!(irep->flags & MRB_ISEQ_NO_FREE)) mrb_free(mrb_, const_cast<mrb_code*>(irep->iseq));
  irep->iseq = reinterpret_cast<const mrb_code*>(at);
  irep->flags |= MRB_ISEQ_NO_FREE;
  used_ += rounded;
  code_.push_back({at, at + bytes, irep});
  for (int i = 0; i < irep->rlen; ++i)
    if (!adopt(const_cast<mrb_irep*>(irep->reps[i]))) return false;
  return true;
}

mrb_value RunawayGuard::guarded(mrb_state* mrb, void* frame) {
  auto* f = static_cast<std::pair<mrb_protect_error_func*, void*>*>(frame);
  t_call->jump = mrb->jmp;  // set by the mrb_protect_error in run()
  mrb_value result = f->first(mrb, f->second);
  t_call->jump = nullptr;
  return result;
}

RunawayGuard::Outcome RunawayGuard::run(mrb_protect_error_func* body, void* data, int budget_ms) {
  ActiveCall call{this, nullptr};
  ActiveCall* outer = t_call;  // a guarded call never nests, but do not lose one if it did
  t_call = &call;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    armed_ = true;
    ++call_;
    pthread_getcpuclockid(pthread_self(), &caller_cpu_);
    budget_ns_ = int64_t(budget_ms) * 1000000;
    cpu_at_start_ns_ = cpu_ns(caller_cpu_);
    deadline_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(budget_ms);
  }
  changed_.notify_one();

  std::pair<mrb_protect_error_func*, void*> frame{body, data};
  mrb_bool failed = false;
  Outcome out;
  out.value = mrb_protect_error(mrb_, guarded, &frame, &failed);

  {
    std::lock_guard<std::mutex> lock(mutex_);
    armed_ = false;
    if (fired_) mprotect(region_, region_bytes_, PROT_READ);
    fired_ = false;
  }
  t_call = outer;
  out.failed = failed;
  out.timed_out = call.timed_out;
  if (call.timed_out) out.where = locate(call.fault);
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
    if (left > 0) {
      deadline_ = std::chrono::steady_clock::now() + std::chrono::nanoseconds(left);
      continue;
    }
    mprotect(region_, region_bytes_, PROT_NONE);
    fired_ = true;
    armed_ = false;
  }
}

std::string RunawayGuard::locate(uintptr_t address) const {
  for (const Code& c : code_) {
    auto begin = reinterpret_cast<uintptr_t>(c.begin), end = reinterpret_cast<uintptr_t>(c.end);
    if (address < begin || address >= end) continue;
    auto pc = uint32_t(address - begin);
    const char* file = mrb_debug_get_filename(mrb_, c.irep, pc);
    int32_t line = mrb_debug_get_line(mrb_, c.irep, pc);
    if (!file) break;
    return std::string(file) + ":" + std::to_string(line);
  }
  return {};
}

}  // namespace raptor::script
