#include "protocol/socket_id.h"

namespace raptor {

bool is_valid_socket_id(std::string_view socket_id) {
  size_t dot = socket_id.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == socket_id.size() || socket_id.size() > 41)
    return false;
  for (size_t i = 0; i < socket_id.size(); ++i)
    if (i != dot && (socket_id[i] < '0' || socket_id[i] > '9')) return false;
  return true;
}

}  // namespace raptor
