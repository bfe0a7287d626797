// The users of an app: POST /apps/{id}/users/{user_id}/terminate_connections.
#pragma once
#include "http/endpoints/endpoint.h"

namespace raptor::http {

// A user with no connections is not an error: apps call this on log-out whether or not the user
// is online.
void terminate_connections(const AppCall& call, const Respond& respond);

}  // namespace raptor::http
