// The kernel's floor under fan-out on this machine, with no server at all: one process send()s one
// small frame to each of N loopback TCP sockets in a tight loop, another process (the receivers,
// on the other core) reads them with epoll. It prints, per N, the sender's CPU per send() and how
// long after the burst began the median / 99th percentile / last receiver got its frame. Raptor's
// fan-out figures (docs/performance.md) are read against it: no server can beat this loop.
//
//   build/send_floor [N ...]      (default: 1000 10000; 8 bursts each, 1 s apart)
//
// Sender and receivers are separate processes so each holds N sockets (the open-file limit here is
// 20,000). The sender is pinned to CPU 0 and the receivers to CPU 1, as scripts/bench pins raptor
// and loadgen.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <vector>

namespace {

constexpr int kBursts = 8;
constexpr size_t kFrameBytes = 96;  // about the size of a small Pusher event frame

int64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

int64_t thread_cpu_ns() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

void pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  sched_setaffinity(0, sizeof set, &set);
}

void die(const char* what) {
  perror(what);
  exit(1);
}

void raise_file_limit(int needed) {
  rlimit limit;
  getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = std::min<rlim_t>(limit.rlim_max, rlim_t(needed));
  setrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < rlim_t(needed)) {
    fprintf(stderr, "send_floor: needs %d open files, the limit is %lu\n", needed, (unsigned long)limit.rlim_cur);
    exit(1);
  }
}

// Receivers: connect n sockets, then read bursts; for each burst report the latency (from the
// burst's start stamp in the frame) at which the median, 99th percentile and last frame arrived.
void run_receivers(int n, uint16_t port, int report_fd) {
  pin(1);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int epoll = epoll_create1(0);
  for (int i = 0; i < n; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) die("connect");
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &ev);
  }
  std::vector<epoll_event> events(1024);
  std::vector<int64_t> latencies;
  char buffer[4096];
  for (int burst = 0; burst < kBursts; ++burst) {
    latencies.clear();
    while (int(latencies.size()) < n) {
      int ready = epoll_wait(epoll, events.data(), int(events.size()), 5000);
      if (ready <= 0) die("epoll_wait (frames missing)");
      for (int i = 0; i < ready; ++i) {
        ssize_t got = read(events[i].data.fd, buffer, sizeof buffer);
        if (got != ssize_t(kFrameBytes)) die("read (short frame)");
        int64_t sent;
        memcpy(&sent, buffer, sizeof sent);
        latencies.push_back(now_ns() - sent);
      }
    }
    std::sort(latencies.begin(), latencies.end());
    int64_t row[3] = {latencies[n / 2], latencies[size_t(n * 0.99)], latencies.back()};
    if (write(report_fd, row, sizeof row) != ssize_t(sizeof row)) die("write report");
  }
}

double ms(int64_t ns) { return ns / 1e6; }

void measure(int n) {
  raise_file_limit(n + 64);
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(listener, 4096) != 0) die("listen");
  socklen_t length = sizeof addr;
  getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &length);
  int report[2];
  if (pipe(report) != 0) die("pipe");

  pid_t child = fork();
  if (child == 0) {
    close(listener);
    close(report[0]);
    run_receivers(n, ntohs(addr.sin_port), report[1]);
    _exit(0);
  }
  close(report[1]);
  pin(0);
  std::vector<int> sockets;
  for (int i = 0; i < n; ++i) {
    int fd = accept(listener, nullptr, nullptr);
    if (fd < 0) die("accept");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // as raptor's sockets are
    sockets.push_back(fd);
  }

  std::vector<double> cpu_per_send, burst_ms, p50, p99, last;
  char frame[kFrameBytes] = {};
  for (int burst = 0; burst < kBursts; ++burst) {
    usleep(1000000);  // 1 s apart, as the fanout10k scenario publishes once a second
    int64_t start = now_ns(), cpu = thread_cpu_ns();
    memcpy(frame, &start, sizeof start);
    for (int fd : sockets) {
      if (send(fd, frame, sizeof frame, 0) != ssize_t(sizeof frame)) die("send");
    }
    cpu_per_send.push_back((thread_cpu_ns() - cpu) / 1e3 / n);
    burst_ms.push_back(ms(now_ns() - start));
    int64_t row[3];
    if (read(report[0], row, sizeof row) != ssize_t(sizeof row)) die("read report");
    p50.push_back(ms(row[0]));
    p99.push_back(ms(row[1]));
    last.push_back(ms(row[2]));
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  printf("{\"subscribers\": %d, \"bursts\": %d, \"sender_cpu_us_per_send\": %.2f, \"burst_ms\": %.1f, "
         "\"receive_p50_ms\": %.1f, \"receive_p99_ms\": %.1f, \"receive_last_ms\": %.1f}\n",
         n, kBursts, median(cpu_per_send), median(burst_ms), median(p50), median(p99), median(last));
  fflush(stdout);
  for (int fd : sockets) close(fd);
  close(listener);
  close(report[0]);
  waitpid(child, nullptr, 0);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> sizes;
  for (int i = 1; i < argc; ++i) sizes.push_back(std::atoi(argv[i]));
  if (sizes.empty()) sizes = {1000, 10000};
  for (int n : sizes) measure(n);
}
