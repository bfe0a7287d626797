#include "common/log.h"

#include <cstdarg>
#include <cstdio>
#include <ctime>

namespace raptor::log {
namespace {

void write(const char* level, const char* fmt, va_list args) {
  char stamp[32];
  time_t now = time(nullptr);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
  fprintf(stderr, "%s %s ", stamp, level);
  vfprintf(stderr, fmt, args);
  fputc('\n', stderr);
}

}  // namespace

#define RAPTOR_LOG_AT(name, level)   \
  void name(const char* fmt, ...) {  \
    va_list args;                    \
    va_start(args, fmt);             \
    write(level, fmt, args);         \
    va_end(args);                    \
  }
RAPTOR_LOG_AT(info, "info")
RAPTOR_LOG_AT(warn, "warn")
RAPTOR_LOG_AT(error, "error")
#undef RAPTOR_LOG_AT

}  // namespace raptor::log
