#include "http/response_format.h"

#include <http_parser.h>

namespace raptor::http {

const char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";

std::string format_response(const Response& r, const Framing& f) {
  const char* reason = http_status_str(static_cast<http_status>(r.status));
  std::string out;
  out.reserve(160 + r.body.size());
  out += "HTTP/1.1 ";
  out += std::to_string(r.status);
  out += ' ';
  out += reason;
  out += "\r\n";
  bool has_body = r.status != 204 && r.status != 304;
  if (has_body) {
    out += "Content-Type: ";
    out += r.content_type;
    out += "\r\nContent-Length: ";
    out += std::to_string(r.body.size());
    out += "\r\n";
  }
  for (const auto& [name, value] : r.headers) {
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  if (f.close) {
    out += "Connection: close\r\n";
  } else if (f.keep_alive_s > 0) {
    out += "Keep-Alive: timeout=";
    out += std::to_string(f.keep_alive_s);
    out += "\r\n";
  }
  out += "\r\n";
  if (has_body && !f.head_only) out += r.body;
  return out;
}

}  // namespace raptor::http
