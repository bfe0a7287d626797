#include "core/hub.h"

namespace raptor {

void Hub::forward_to_user(size_t from, const Delivery& d) const {
  if (mailboxes_.size() < 2) return;
  post(users_.workers_of(*d.app, d.target) & ~(uint64_t(1) << from), d);
}

void Hub::post(uint64_t workers, const Delivery& d) const {
  for (size_t w = 0; workers != 0 && w < mailboxes_.size(); ++w, workers >>= 1)
    if ((workers & 1) && mailboxes_[w]) mailboxes_[w]->post(d);
}

}  // namespace raptor
