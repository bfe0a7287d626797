// common/service_notify: the datagram systemd's Type=notify waits for, sent without libsystemd.
#include "common/service_notify.h"
#include "common/watchdog.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>

#include "support.h"

using namespace raptor;

namespace {

// A datagram socket bound at `name` (a path, or '@' and an abstract name), and NOTIFY_SOCKET
// naming it while the object lives.
struct NotifySocket {
  int fd = -1;
  std::string path;
  explicit NotifySocket(std::string name) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    memcpy(address.sun_path, name.data(), name.size());
    if (name[0] == '@') address.sun_path[0] = '\0';
    else path = name;
    fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    REQUIRE(fd >= 0);
    REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&address), socklen_t(offsetof(sockaddr_un, sun_path) + name.size())) ==
            0);
    setenv("NOTIFY_SOCKET", name.c_str(), 1);
  }
  ~NotifySocket() {
    unsetenv("NOTIFY_SOCKET");
    close(fd);
    if (!path.empty()) unlink(path.c_str());
  }
  std::string receive() {
    char buffer[256];
    ssize_t n = recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
    return n < 0 ? "(nothing)" : std::string(buffer, size_t(n));
  }
};

std::string unique_name(const char* stem) {
  return std::string(stem) + std::to_string(getpid());
}

}  // namespace

TEST_CASE("service notify sends the state to the socket NOTIFY_SOCKET names", "[service_notify]") {
  NotifySocket systemd("/tmp/" + unique_name("raptor-notify-test-"));
  CHECK(service::notify("READY=1"));
  CHECK(systemd.receive() == "READY=1");
  CHECK(service::notify("STOPPING=1"));
  CHECK(systemd.receive() == "STOPPING=1");
}

TEST_CASE("service notify reaches an abstract socket written with a leading @", "[service_notify]") {
  NotifySocket systemd("@" + unique_name("raptor-notify-test-"));
  CHECK(service::notify("RELOADING=1"));
  CHECK(systemd.receive() == "RELOADING=1");
}

TEST_CASE("service notify does nothing without NOTIFY_SOCKET and fails on a socket that is not there",
          "[service_notify]") {
  unsetenv("NOTIFY_SOCKET");
  CHECK(service::notify("READY=1"));
  setenv("NOTIFY_SOCKET", "/nonexistent/notify", 1);
  CHECK_FALSE(service::notify("READY=1"));
  setenv("NOTIFY_SOCKET", "relative/path", 1);
  CHECK_FALSE(service::notify("READY=1"));
  unsetenv("NOTIFY_SOCKET");
}

TEST_CASE("the watchdog interval comes from WATCHDOG_USEC, for this process only", "[service][watchdog]") {
  CHECK(service::watchdog_usec("30000000", nullptr, 42) == 30000000);
  CHECK(service::watchdog_usec("30000000", "42", 42) == 30000000);
  CHECK(service::watchdog_usec("30000000", "41", 42) == 0);  // set for another process
  CHECK(service::watchdog_usec(nullptr, nullptr, 42) == 0);
  CHECK(service::watchdog_usec("0", nullptr, 42) == 0);
  CHECK(service::watchdog_usec("-5", nullptr, 42) == 0);
  CHECK(service::watchdog_usec("30s", nullptr, 42) == 0);
}

TEST_CASE("WATCHDOG=1 goes only while every worker has beaten lately", "[service][watchdog]") {
  service::Heartbeats beats(2);
  CHECK_FALSE(beats.all_fresh(1000, 2000));  // no worker has beaten yet
  beats.beat(0, 1000);
  CHECK_FALSE(beats.all_fresh(1000, 2000));
  beats.beat(1, 1500);
  CHECK(beats.all_fresh(3000, 2000));
  CHECK_FALSE(beats.all_fresh(3001, 2000));  // worker 0 is stuck
  beats.beat(0, 3001);
  CHECK(beats.all_fresh(3001, 2000));
  CHECK(service::heartbeat_max_age_ms(30000000) == 15000);
  CHECK(service::heartbeat_max_age_ms(1000000) == 2000);  // never below two ticks
}
