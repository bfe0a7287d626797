// A new mruby interpreter with the part of Debian's mruby library that scripts may use.
//
// Debian's libmruby.a compiles in 31 gems, and mrb_open starts them all. Raptor's interpreters
// start neither the gems for files and sockets (mruby-io, mruby-socket) nor ObjectSpace's heap
// walk, Kernel#eval's run-time compiler (mruby-eval) or the terminal (mruby-print): the classes
// and methods a script must never reach are then never defined, rather than defined and removed
// by mrblib/sandbox.rb after the fact (which still runs, for what core mruby defines). It is
// cheaper too: io and socket were a third of mrb_open, and a whole script::Vm takes 22 % less
// time to make (docs/performance.md).
#pragma once
#include <mruby.h>

namespace raptor::script {

// mrb_open_allocf with those gems left out; nullptr when the core or a gem could not be set up.
mrb_state* open_interpreter(mrb_allocf allocate, void* allocator);

}  // namespace raptor::script
