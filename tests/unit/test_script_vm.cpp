// script/Vm: the sandbox (every hole Debian's mruby leaves open is closed), the helpers bound
// from C++, the time budget (runaway code stopped, the VM still usable), the memory cap, and
// errors reported as "file:line: message" instead of crashing.
#include "script/vm.h"

#include <mruby/string.h>
#include <mruby/variable.h>

#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

using raptor::script::Vm;
using raptor::script::VmLimits;

namespace {

VmLimits test_limits() {
  VmLimits limits;
  limits.hook_budget_ms = 50;
  limits.load_budget_ms = 50;
  limits.memory_bytes = 16u << 20;
  return limits;
}

// Runs `code` as a script named policy.rb; on success returns the inspected value of its last
// expression, on failure the error (prefixed "error: ").
std::string run(Vm& vm, const std::string& code) {
  std::string error;
  if (!vm.load_source("$result = begin\n" + code + "\nend\n", "policy.rb", error)) return "error: " + error;
  mrb_state* mrb = vm.mrb();
  mrb_value v = mrb_funcall(mrb, mrb_gv_get(mrb, mrb_intern_lit(mrb, "$result")), "inspect", 0);
  return std::string(RSTRING_PTR(v), size_t(RSTRING_LEN(v)));
}

double elapsed_ms(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - since).count();
}

}  // namespace

TEST_CASE("the sandbox closes files, sockets, processes, the terminal and run-time eval", "[script][sandbox]") {
  Vm vm(test_limits());
  const char* holes[] = {
      "`echo hi`",
      "Kernel.send(:`, 'echo hi')",
      "%x(echo hi)",
      "File.read('/etc/passwd')",
      "File.open('/tmp/raptor-sandbox-test', 'w')",
      "IO.popen('echo hi')",
      "IO.sysopen('/etc/passwd')",
      "open('/etc/passwd')",
      "Kernel.open('|echo hi')",
      "Object.const_get(:IO)",
      "STDOUT.write('x')",
      "$stdout.write('x')",
      "$stderr.syswrite('x')",
      "TCPSocket.new('127.0.0.1', 80)",
      "Socket.gethostname",
      "UNIXSocket.new('/tmp/x')",
      "Addrinfo.tcp('localhost', 80)",
      "system('echo hi')",
      "exec('echo hi')",
      "spawn('echo hi')",
      "fork { }",
      "exit",
      "exit!",
      "abort",
      "sleep 1",
      "gets",
      "eval('1 + 1')",
      "instance_eval('1 + 1')",
      "Object.class_eval('1 + 1')",
      "String.module_eval('1 + 1')",
      "Kernel.eval('1 + 1')",
      "Kernel.send(:eval, '1 + 1')",
      "Kernel.__send__(:eval, '1 + 1')",
      "Kernel.method(:eval).call('1 + 1')",
      "Kernel.instance_method(:eval).bind(self).call('1 + 1')",
      "Kernel.singleton_class.instance_method(:eval).bind(Kernel).call('1 + 1')",
      "Object.new.method(:instance_eval).call('1 + 1')",
      "BasicObject.instance_method(:instance_eval).bind(self).call('1 + 1')",
      "Module.instance_method(:class_eval).bind(String).call('1 + 1')",
      "Kernel.instance_eval('1 + 1')",
      "binding.eval('1 + 1')",
      "Kernel.system('echo hi')",
      "Kernel.exit",
      "ObjectSpace.each_object(Class) { }",
      "Fiber.new { }",
      "require 'socket'",
      "Process.pid",
      "ENV['HOME']",
  };
  for (const char* hole : holes) {
    INFO(hole);
    std::string out = run(vm, hole);
    CHECK(out.rfind("error: policy.rb:2: ", 0) == 0);
    CHECK(out.find("Error)") != std::string::npos);
  }
  // What stays: the block forms of *_eval, and printing (which goes to the log).
  CHECK(run(vm, "String.class_eval { self }") == "String");
  CHECK(run(vm, "'abc'.instance_eval { size }") == "3");
  CHECK(run(vm, "puts 'to the log'; p(42)") == "42");
}

TEST_CASE("an interpreter starts without the gems for files, sockets, the heap walk, eval and the terminal", "[script][sandbox]") {
  Vm vm(test_limits());
  // Classes those gems define and sandbox.rb does not remove: absent, so never defined at all.
  CHECK(run(vm, "%i[IOError EOFError SocketError].map { |c| Object.const_defined?(c) }") == "[false, false, false]");
  CHECK(run(vm, "Kernel.respond_to?(:__printstr__, true)") == "false");
  // The rest of mruby's library stays for scripts: time, struct, random, math, rational,
  // complex, pack, sprintf, lazy enumerators, methods as objects, metaprogramming.
  CHECK(run(vm, "[Time.at(0).utc.year, Struct.new(:a).new(1).a, Random.new(1).rand(10).class, Math.sqrt(4), "
                "Rational(1, 2).to_s, Complex(1, 2).imaginary, [65, 66].pack('C*'), format('%05.1f', 1.5), "
                "(1..Float::INFINITY).lazy.map { |x| x * 2 }.first(2), 1.method(:+).call(2), "
                "Object.new.instance_variable_set(:@a, 1), [1, 2, 3].each_slice(2).to_a]") ==
        "[1970, 1, Integer, 2.0, \"1/2\", 2.0, \"AB\", \"001.5\", [2, 4], 3, 1, [[1, 2], [3]]]");
}

TEST_CASE("helpers: JSON, HMAC-SHA256, SHA-256, Base64, secure_compare, time, env", "[script][helpers]") {
  Vm vm(test_limits());
  CHECK(run(vm, "JSON.parse('{\"a\":[1,2.5,\"x\",true,null,{\"b\":{}}]}')") ==
        "{\"a\"=>[1, 2.5, \"x\", true, nil, {\"b\"=>{}}]}");
  CHECK(run(vm, "JSON.generate({a: [1, 2.5, 'x', true, nil, :sym], 'b' => {}})") ==
        "\"{\\\"a\\\":[1,2.5,\\\"x\\\",true,null,\\\"sym\\\"],\\\"b\\\":{}}\"");
  CHECK(run(vm, "JSON.parse('{bad')").rfind("error: policy.rb:2: malformed JSON (JSON::ParserError)", 0) == 0);
  CHECK(run(vm, "JSON.generate(Object.new)").find("has no JSON form (TypeError)") != std::string::npos);
  CHECK(run(vm, "a = []; a << a; JSON.generate(a)").find("64 levels") != std::string::npos);
  // Pusher's documented example signature (reference §2.7).
  CHECK(run(vm, "Raptor.hmac_sha256('7ad3773142a6692b25b8', '1234.1234:private-foobar')") ==
        "\"58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4\"");
  CHECK(run(vm, "Raptor.sha256('abc')") == "\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\"");
  CHECK(run(vm, "Raptor.base64_encode('hello?')") == "\"aGVsbG8/\"");
  CHECK(run(vm, "Raptor.base64_decode('aGk=')") == "\"hi\"");
  CHECK(run(vm, "Raptor.base64_decode('a')").find("ArgumentError") != std::string::npos);
  CHECK(run(vm, "[Raptor.secure_compare('abc', 'abc'), Raptor.secure_compare('abc', 'abd'), "
                "Raptor.secure_compare('abc', 'ab')]") == "[true, false, false]");
  CHECK(run(vm, "(Raptor.now - Time.now.to_f).abs < 5") == "true");
  setenv("RAPTOR_TEST_SECRET", "s3cret", 1);
  CHECK(run(vm, "Raptor.env('RAPTOR_TEST_SECRET')") == "\"s3cret\"");
  CHECK(run(vm, "Raptor.env('RAPTOR_TEST_UNSET', 'fallback')") == "\"fallback\"");
  CHECK(run(vm, "Raptor.env('RAPTOR_TEST_UNSET')").find("is not set (KeyError)") != std::string::npos);
  CHECK(run(vm, "Raptor.env('HOME')").find("only RAPTOR_* variables") != std::string::npos);
}

TEST_CASE("a runaway script is stopped at its time budget and the VM stays usable", "[script][budget]") {
  Vm vm(test_limits());
  const char* runaways[] = {
      "loop { }",
      "i = 0\nwhile true\n  i += 1\nend",
      "begin\n  loop { }\nrescue Exception\n  retry\nend",
      "def spin = spin_more\ndef spin_more\n  loop { }\nend\nspin",
      "[1].cycle { }",
      // Loops inside mruby's own Ruby library, with no instruction of the script's in them.
      "(1..).each(&:itself)",
      "[1].cycle(&:itself)",
      "1_000_000_000.times(&:itself)",
  };
  for (const char* code : runaways) {
    INFO(code);
    auto start = std::chrono::steady_clock::now();
    std::string out = run(vm, code);
    double ms = elapsed_ms(start);
    CHECK(out.find("stopped after its time budget of 50 ms") != std::string::npos);
    CHECK(out.rfind("error: policy.rb:", 0) == 0);  // where it was stopped
    CHECK(ms < 2000);                                // generous: sanitizers, a busy machine
    CHECK(run(vm, "[1, 2, 3].map { |x| x * 2 }") == "[2, 4, 6]");
  }
}

// A C method fetches no instruction, so the guard's first stage cannot stop it; the watchdog
// interrupts the thread after a second budget, and the interpreter (which the C code may have
// left half-updated) is replaced by a fresh one with the same files loaded again.
TEST_CASE("a call stuck inside a C method is stopped and its VM replaced, with the same files", "[script][budget]") {
  Vm vm(test_limits());
  std::string error;
  REQUIRE(vm.load_source("def answer = 42\n", "answer.rb", error));
  const char* stuck[] = {
      "('a' * 4_000_000).index('a' * 2_000_000 + 'b')",  // quadratic: hours
      "('a' * 4_000_000).include?('a' * 2_000_000 + 'b')",
  };
  for (const char* code : stuck) {
    INFO(code);
    auto start = std::chrono::steady_clock::now();
    std::string out = run(vm, code);
    double ms = elapsed_ms(start);
    CHECK(out == "error: policy.rb:2: stopped after its time budget of 50 ms inside a C method; the Ruby VM was replaced");
    CHECK(ms < 5000);  // generous: sanitizers, a busy machine
    CHECK(run(vm, "answer") == "42");
    CHECK(run(vm, "[1, 2, 3].map { |x| x * 2 }") == "[2, 4, 6]");
  }
  CHECK(run(vm, "Kernel.respond_to?(:eval)") == "false");  // the sandbox is in place again
}

// The budget is CPU time: a hook that needs 30 ms of CPU still finishes when it shares its core
// with a busy thread and so needs ~60 ms on the clock (a loaded machine must not fail hooks).
TEST_CASE("the time budget counts the hook's CPU time and not time spent waiting for a core", "[script][budget]") {
  auto thread_cpu_ms = [] {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
  };
  cpu_set_t before, one;
  REQUIRE(sched_getaffinity(0, sizeof before, &before) == 0);
  CPU_ZERO(&one);
  CPU_SET(sched_getcpu(), &one);
  REQUIRE(sched_setaffinity(0, sizeof one, &one) == 0);

  Vm vm(test_limits());
  // Calibrate a loop to ~30 ms of this thread's CPU (60 % of the 50 ms budget).
  double start = thread_cpu_ms();
  REQUIRE(run(vm, "i = 0\nwhile i < 200_000\n  i += 1\nend\ni") == "200000");
  double per_iteration = std::max(thread_cpu_ms() - start, 0.05) / 200000;
  long iterations = long(30 / per_iteration);

  std::atomic<bool> done{false};
  std::thread hog([&] {
    sched_setaffinity(0, sizeof one, &one);  // the same core
    while (!done.load(std::memory_order_relaxed)) {
    }
  });
  std::string code = "i = 0\nwhile i < " + std::to_string(iterations) + "\n  i += 1\nend\ni";
  auto wall = std::chrono::steady_clock::now();
  std::string out = run(vm, code);
  double wall_ms = elapsed_ms(wall);
  done = true;
  hog.join();
  sched_setaffinity(0, sizeof before, &before);
  INFO("iterations " << iterations << ", " << wall_ms << " ms on the clock");
  CHECK(out == std::to_string(iterations));
}

// The guard times each call with a CPU-time timer of the calling thread, not a thread of its own:
// a worker, the config file and every reload build VMs, and a thread per VM cost its start and
// stop each time.
TEST_CASE("a VM adds no thread to the process, and its calls are timed on any thread", "[script][budget]") {
  auto threads = [] {
    auto entries = std::filesystem::directory_iterator("/proc/self/task");
    return std::distance(begin(entries), end(entries));
  };
  auto before = threads();
  {
    Vm a(test_limits()), b(test_limits());
    CHECK(threads() == before);
    CHECK(run(a, "1 + 1") == "2");
    std::string out;
    std::thread other([&] { out = run(b, "loop {}"); });  // a thread's first call makes its timer
    other.join();
    CHECK(out.find("stopped after its time budget of 50 ms") != std::string::npos);
    CHECK(threads() == before);
  }
}

// Without a timer a call could not be stopped, so it is not made: the kernel refuses timers past
// RLIMIT_SIGPENDING, which is per user and can run out.
TEST_CASE("a call the kernel gives no CPU timer for is refused, not run unguarded", "[script][budget]") {
  Vm vm(test_limits());
  std::string out;
  rlimit saved{};
  REQUIRE(getrlimit(RLIMIT_SIGPENDING, &saved) == 0);
  std::thread fresh([&] {  // no timer yet on this thread
    rlimit none = saved;
    none.rlim_cur = 0;
    if (setrlimit(RLIMIT_SIGPENDING, &none) != 0) return;
    out = run(vm, "$ran = true");
    setrlimit(RLIMIT_SIGPENDING, &saved);
  });
  fresh.join();
  CHECK(out == "error: not run: no CPU timer for the call (Resource temporarily unavailable)");
  CHECK(run(vm, "$ran") == "nil");
  CHECK(run(vm, "1 + 1") == "2");  // this thread has its timer
}

// SIGXCPU also comes from kill(1) and, for the whole process, from RLIMIT_CPU: only the timer's
// own signal may stop a hook.
TEST_CASE("a SIGXCPU that is not the call's timer does not stop the call", "[script][budget]") {
  Vm vm(test_limits());
  std::atomic<bool> running{false}, done{false};
  pthread_t caller = pthread_self();
  std::thread sender([&] {
    while (!running.load()) std::this_thread::yield();
    for (int i = 0; i < 40 && !done.load(); ++i) {
      pthread_kill(caller, SIGXCPU);
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  std::string error;
  REQUIRE(vm.load_source("def busy\n  i = 0\n  i += 1 while i < 1_000_000\n  i\nend\n", "busy.rb", error));
  // About 16 ms of CPU, a third of the budget, with a signal every millisecond.
  running = true;
  std::string out = run(vm, "busy; busy");
  done = true;
  sender.join();
  CHECK(out == "1000000");
}

TEST_CASE("the memory cap stops allocation bombs and the VM stays usable", "[script][memory]") {
  Vm vm(test_limits());
  const char* bombs[] = {
      "'x' * 1_000_000_000",
      "a = []\nloop { a << ('x' * 100_000) }",
      "Array.new(100_000_000, 0)",
      "h = {}\n10_000_000.times { |i| h[i] = i.to_s }",
  };
  for (const char* code : bombs) {
    INFO(code);
    std::string out = run(vm, code);
    bool stopped = out.find("memory cap reached") != std::string::npos ||
                   out.find("time budget") != std::string::npos;  // whichever comes first
    CHECK(stopped);
    CHECK(vm.memory_used() <= test_limits().memory_bytes);
    CHECK(run(vm, "'ok' * 2") == "\"okok\"");
  }
}

TEST_CASE("script errors come back as file:line: message, never as a crash", "[script][errors]") {
  Vm vm(test_limits());
  std::string error;
  CHECK_FALSE(vm.load_source("x = 1\ndef broken(\n", "broken.rb", error));
  CHECK(error.rfind("broken.rb:3: ", 0) == 0);

  CHECK_FALSE(vm.load_source("\n\nraise ArgumentError, 'bad value'\n", "raising.rb", error));
  CHECK(error == "raising.rb:3: bad value (ArgumentError)");

  CHECK_FALSE(vm.load_source("def deep(n) = deep(n + 1)\ndeep(0)\n", "deep.rb", error));
  CHECK(error.find("SystemStackError") != std::string::npos);

  CHECK_FALSE(vm.load_source("class Sneaky < StandardError\n  def message = loop { }\nend\nraise Sneaky\n",
                             "sneaky.rb", error));
  CHECK(error.find("time budget") != std::string::npos);

  CHECK_FALSE(vm.load_file("/nonexistent/raptor.rb", error));
  CHECK(error == "/nonexistent/raptor.rb: cannot read: No such file or directory");

  CHECK(run(vm, "undefined_thing").find("policy.rb:2: undefined method 'undefined_thing'") != std::string::npos);
  CHECK(run(vm, "1 + 1") == "2");
}
