// Log lines on stderr. Never pass keys, secrets or signatures to it.
// A line starts with a UTC timestamp and the level, except when stderr is the journal (systemd's
// $JOURNAL_STREAM names stderr's device:inode): journald stamps lines itself, so a line starts
// with its syslog priority instead, "<3>" error, "<4>" warn, "<6>" info (sd-daemon(3)).
// --log-format json makes each line one JSON object {"time","level","message"} for log shippers,
// after the same "<N>" when stderr is the journal (journald keeps the priority, strips the "<N>").
// Every line is one line: control characters in it are escaped (a client's "\n" cannot forge a
// line) and it is cut at kMaxLineBytes. Bound text from outside (paths, names, hook errors) with
// for_log() where the rest of the line must survive it.
#pragma once
#include <cstddef>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace raptor::log {

constexpr size_t kMaxLineBytes = 4096;
constexpr size_t kMaxFieldBytes = 200;

enum class Level { kError = 3, kWarn = 4, kInfo = 6, kDebug = 7 };  // the syslog priorities
enum class Style { kTimestamped, kJournal };
enum class Format { kText, kJson };

// The format of every later line; main() sets it once, before the workers start.
void set_format(Format format);

void info(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void warn(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void error(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void debug(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

// --log-level: lines less severe than `level` are not written (default kInfo). Any thread.
void set_threshold(Level level);
// "error", "warn", "info" or "debug"; nothing for another name.
std::optional<Level> level_named(std::string_view name);

// `text` as it may appear in a log line: C0 and C1 control characters and DEL escaped (\n, \r,
// \t, \xNN, \u0085), at most `max` bytes of the input kept and "...(N bytes)" added when cut.
std::string for_log(std::string_view text, size_t max = kMaxFieldBytes);

// kJournal when `journal_stream` ($JOURNAL_STREAM, "device:inode") names the file open on `fd`.
Style style_of(const char* journal_stream, int fd);
// The line `message` (already escaped and bounded) makes, newline included; `now` for the stamp.
std::string format_line(Style style, Level level, std::string_view message, time_t now, Format format = Format::kText);

}  // namespace raptor::log
