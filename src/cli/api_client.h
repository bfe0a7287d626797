// Sends one signed request to a running server with libcurl and reads its answer. libcurl (the
// Debian build against OpenSSL, which raptor links already) brings TLS with certificate and host
// name checks against the system's CAs, name resolution and time limits: what an operator's
// command needs and what a hand-written client would get wrong.
#pragma once
#include <string>

#include "cli/invocation.h"
#include "http/request.h"

namespace raptor::cli {

struct ApiReply {
  bool reached = false;  // false: no HTTP answer (`error` says why)
  std::string error;
  long status = 0;
  std::string body;
};

// `req` signed already (signed_request.h); sent to target.base_url within target.timeout_s.
ApiReply send(const Target& target, const http::Request& req);

}  // namespace raptor::cli
