#include "common/service_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace raptor::service {

bool notify(std::string_view state) {
  const char* name = getenv("NOTIFY_SOCKET");
  if (!name || !*name) return true;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  size_t length = strlen(name);
  if ((name[0] != '/' && name[0] != '@') || length >= sizeof address.sun_path) {
    errno = EINVAL;
    return false;
  }
  memcpy(address.sun_path, name, length);
  if (name[0] == '@') address.sun_path[0] = '\0';  // abstract namespace: no file, no trailing NUL
  socklen_t address_length = socklen_t(offsetof(sockaddr_un, sun_path) + length);
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  ssize_t sent = sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&address),
                        address_length);
  int saved = errno;
  close(fd);
  errno = saved;
  return sent == ssize_t(state.size());
}

}  // namespace raptor::service
