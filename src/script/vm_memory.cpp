#include "script/vm_memory.h"

#include <malloc.h>

#include <cstdlib>

#include "script/runaway_guard.h"

namespace raptor::script {

void VmMemory::link(Block* b) {
  b->prev = &blocks_;
  b->next = blocks_.next;
  blocks_.next->prev = b;
  blocks_.next = b;
}

void VmMemory::unlink(Block* b) {
  b->prev->next = b->next;
  b->next->prev = b->prev;
}

void* VmMemory::allocate(mrb_state*, void* p, size_t size, void* self_ptr) {
  auto* self = static_cast<VmMemory*>(self_ptr);
  RunawayGuard::Unstoppable hold;  // never interrupted with the ring or malloc's locks half-done
  Block* old = p ? static_cast<Block*>(p) - 1 : nullptr;
  size_t old_size = old ? malloc_usable_size(old) : 0;
  if (size == 0) {
    if (old) {
      unlink(old);
      free(old);
      self->used_ -= old_size;
    }
    return nullptr;
  }
  if (self->capped_ && (size > self->cap_ || self->used_ - old_size + size + sizeof(Block) > self->cap_))
    return nullptr;  // mruby raises NoMemoryError
  if (old) unlink(old);
  auto* b = static_cast<Block*>(realloc(old, sizeof(Block) + size));
  if (!b) {
    if (old) self->link(old);  // realloc leaves the old block as it was
    return nullptr;
  }
  self->link(b);
  self->used_ = self->used_ - old_size + malloc_usable_size(b);
  return b + 1;
}

void VmMemory::release_all() {
  for (Block* b = blocks_.next; b != &blocks_;) {
    Block* next = b->next;
    free(b);
    b = next;
  }
  blocks_.prev = blocks_.next = &blocks_;
  used_ = 0;
}

}  // namespace raptor::script
