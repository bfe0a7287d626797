// Timestamped log lines on stderr. Never pass keys, secrets or signatures to it.
// Every line is one line: control characters in it are escaped (a client's "\n" cannot forge a
// line) and it is cut at kMaxLineBytes. Bound text from outside (paths, names, hook errors) with
// for_log() where the rest of the line must survive it.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace raptor::log {

constexpr size_t kMaxLineBytes = 4096;
constexpr size_t kMaxFieldBytes = 200;

void info(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void warn(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void error(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

// `text` as it may appear in a log line: C0 and C1 control characters and DEL escaped (\n, \r,
// \t, \xNN, \u0085), at most `max` bytes of the input kept and "...(N bytes)" added when cut.
std::string for_log(std::string_view text, size_t max = kMaxFieldBytes);

}  // namespace raptor::log
