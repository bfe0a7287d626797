// The bytes of an HTTP/1.1 response: status line, the usual fields and the response's own, and
// the JSON body. net/ sends them as they are.
#pragma once
#include <string>

#include "http/request.h"

namespace raptor::http {

struct Framing {
  bool close = false;      // "Connection: close": the connection ends after this answer
  bool head_only = false;  // an answer to HEAD: the fields of the body, not the body
  int keep_alive_s = 0;    // when kept open: "Keep-Alive: timeout=N", so clients close it first
};

std::string format_response(const Response& r, const Framing& f);

// "HTTP/1.1 100 Continue": the client may send the body it announced.
extern const char kContinue[];

}  // namespace raptor::http
