// Timestamped log lines on stderr. Never pass keys, secrets or signatures to it.
#pragma once

namespace raptor::log {

void info(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void warn(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void error(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

}  // namespace raptor::log
