// The memory of one mruby interpreter: counted against a cap, and linked so that it can be freed
// all at once.
//
// The cap turns allocation bombs ("x" * 10**9) into NoMemoryError. The links are for a VM that the
// RunawayGuard stopped in the middle of a C method: its structures may be half-updated, so
// mrb_close cannot be trusted to walk them; release_all() frees every block without reading them.
//
// Used by the VM's thread only (and by the thread that builds the VM).
#pragma once
#include <mruby.h>

#include <cstddef>

namespace raptor::script {

class VmMemory {
 public:
  explicit VmMemory(size_t cap) : cap_(cap) {}
  ~VmMemory() { release_all(); }  // nothing left after a clean mrb_close
  VmMemory(const VmMemory&) = delete;
  VmMemory& operator=(const VmMemory&) = delete;

  // mruby's allocator (mrb_open_allocf); `self` is the VmMemory.
  static void* allocate(mrb_state*, void* p, size_t size, void* self);
  // The cap applies once the interpreter and mrblib are set up.
  void enforce_cap() { capped_ = true; }
  size_t used() const { return used_; }
  void release_all();

 private:
  struct Block {  // ahead of every allocation; 16 bytes, so malloc's alignment is kept
    Block* prev;
    Block* next;
  };
  void link(Block* b);
  static void unlink(Block* b);

  Block blocks_{&blocks_, &blocks_};  // a ring through every live allocation
  size_t used_ = 0;
  const size_t cap_;
  bool capped_ = false;
};

}  // namespace raptor::script
