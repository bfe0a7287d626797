#include "http/endpoints/users.h"

#include "http/validation.h"

namespace raptor::http {

void terminate_connections(const AppCall& call, const Respond& respond) {
  if (auto refusal = refuse_user_id(call.app, call.name)) return respond(*refusal);
  call.engine.terminate_user(call.app, call.name);
  respond({});
}

}  // namespace raptor::http
