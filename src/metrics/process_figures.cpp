#include "metrics/process_figures.h"

#include <dirent.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

namespace raptor::metrics {
namespace {

size_t open_fds() {
  DIR* dir = opendir("/proc/self/fd");
  if (!dir) return 0;
  size_t n = 0;
  while (dirent* e = readdir(dir)) n += e->d_name[0] != '.';
  closedir(dir);
  return n > 0 ? n - 1 : 0;  // not the one opendir holds
}

// Seconds since the epoch the process started: field 22 of /proc/self/stat is in clock ticks
// since boot, and /proc/stat's btime is the boot time.
double start_time_s() {
  std::ifstream stat("/proc/self/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  size_t paren = text.rfind(')');  // the command name may hold spaces
  if (paren == std::string::npos) return 0;
  std::istringstream fields(text.substr(paren + 2));
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i) {}
  double ticks = std::strtod(field.c_str(), nullptr);
  std::ifstream boot("/proc/stat");
  std::string line;
  while (std::getline(boot, line))
    if (line.compare(0, 6, "btime ") == 0) return std::strtod(line.c_str() + 6, nullptr) + ticks / double(sysconf(_SC_CLK_TCK));
  return 0;
}

}  // namespace

void write_process_figures(Exposition& out) {
  long page = sysconf(_SC_PAGESIZE);
  unsigned long size_pages = 0, resident_pages = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%lu %lu", &size_pages, &resident_pages) != 2) size_pages = resident_pages = 0;
    std::fclose(f);
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  double cpu = double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
               double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  rlimit files{};
  getrlimit(RLIMIT_NOFILE, &files);

  out.family("process_cpu_seconds_total", "counter", "User and system CPU time spent, in seconds.");
  out.sample("process_cpu_seconds_total", cpu);
  out.family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
  out.sample("process_resident_memory_bytes", double(resident_pages) * double(page));
  out.family("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
  out.sample("process_virtual_memory_bytes", double(size_pages) * double(page));
  out.family("process_open_fds", "gauge", "Number of open file descriptors.");
  out.sample("process_open_fds", double(open_fds()));
  out.family("process_max_fds", "gauge", "Maximum number of open file descriptors.");
  out.sample("process_max_fds", double(files.rlim_cur));
  out.family("process_start_time_seconds", "gauge", "Start time of the process since the epoch, in seconds.");
  out.sample("process_start_time_seconds", start_time_s());
}

}  // namespace raptor::metrics
