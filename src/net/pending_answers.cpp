#include "net/pending_answers.h"

namespace raptor::net {

uint64_t PendingAnswers::await(HttpConnection* c) {
  uint64_t id = ++begun_;
  awaiting_.emplace(id, c);
  return id;
}

HttpConnection* PendingAnswers::take(uint64_t id) {
  auto it = awaiting_.find(id);
  if (it == awaiting_.end()) return nullptr;
  HttpConnection* c = it->second;
  awaiting_.erase(it);
  return c;
}

}  // namespace raptor::net
