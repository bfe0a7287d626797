// What an endpoint of the HTTP API gets once the route table (http/api.cpp) has matched its path,
// checked the method and the query's form, and verified the signature: the app, the request, and
// the name the path holds ({name} in the route's path: a channel or a user id). It answers through
// `respond`, exactly once (http/api.h).
#pragma once
#include <string>

#include "core/engine.h"
#include "http/api.h"

namespace raptor::http {

struct AppCall {
  Engine& engine;
  const App& app;
  const Request& req;
  const std::string& name;  // empty when the path holds none
};

using Endpoint = void (*)(const AppCall& call, const Respond& respond);

}  // namespace raptor::http
