// notify_listener PATH: binds a unix datagram socket at PATH, as systemd does for $NOTIFY_SOCKET,
// writes "bound" once it can receive, then each datagram it receives as one line on stdout.
// Ends at SIGTERM or when stdout closes.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
  sockaddr_un address{};
  if (argc != 2 || strlen(argv[1]) >= sizeof address.sun_path) {
    fprintf(stderr, "usage: notify_listener PATH\n");
    return 2;
  }
  address.sun_family = AF_UNIX;
  strcpy(address.sun_path, argv[1]);
  int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    perror("notify_listener");
    return 1;
  }
  puts("bound");
  fflush(stdout);
  char buffer[4096];
  for (;;) {
    ssize_t n = recv(fd, buffer, sizeof buffer, 0);
    if (n < 0) return 1;
    for (ssize_t i = 0; i < n; ++i)
      if (buffer[i] == '\n') buffer[i] = ' ';  // one datagram, one line
    if (printf("%.*s\n", int(n), buffer) < 0 || fflush(stdout) != 0) return 0;
  }
}
