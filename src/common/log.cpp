#include "common/log.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "protocol/json.h"

namespace raptor::log {
namespace {

std::atomic<Format> g_format{Format::kText};

const char* level_name(Level level) {
  switch (level) {
    case Level::kError: return "error";
    case Level::kWarn: return "warn";
    case Level::kInfo: return "info";
    case Level::kDebug: return "debug";
  }
  return "info";
}

std::atomic<int> threshold{int(Level::kInfo)};

void write(Level level, const char* fmt, va_list args) {
  if (int(level) > threshold.load(std::memory_order_relaxed)) return;
  // Decided once: stderr does not change while raptor runs.
  static const Style style = style_of(getenv("JOURNAL_STREAM"), STDERR_FILENO);
  char message[kMaxLineBytes + 1];
  int n = vsnprintf(message, sizeof message, fmt, args);
  if (n < 0) return;
  std::string_view text(message, size_t(n) < sizeof message ? size_t(n) : sizeof message - 1);
  while (!text.empty() && text.back() == '\n') text.remove_suffix(1);  // callers passing a whole error text
  std::string body = for_log(text, kMaxLineBytes);
  if (size_t(n) >= sizeof message) body += "...(" + std::to_string(n) + " bytes)";
  std::string line = format_line(style, level, body, time(nullptr), g_format.load(std::memory_order_relaxed));
  // One write per line, so that the lines of several workers do not interleave.
  fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace

void set_threshold(Level level) { threshold.store(int(level), std::memory_order_relaxed); }

std::optional<Level> level_named(std::string_view name) {
  for (Level level : {Level::kError, Level::kWarn, Level::kInfo, Level::kDebug})
    if (name == level_name(level)) return level;
  return std::nullopt;
}

Style style_of(const char* journal_stream, int fd) {
  struct stat st;
  if (!journal_stream || fstat(fd, &st) != 0) return Style::kTimestamped;
  unsigned long long device = 0, inode = 0;
  char end = 0;
  if (sscanf(journal_stream, "%llu:%llu%c", &device, &inode, &end) != 2) return Style::kTimestamped;
  return device == st.st_dev && inode == st.st_ino ? Style::kJournal : Style::kTimestamped;
}

void set_format(Format format) { g_format.store(format, std::memory_order_relaxed); }

std::string format_line(Style style, Level level, std::string_view message, time_t now, Format format) {
  char stamp[32];
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
  std::string line;
  if (style == Style::kJournal) line = "<" + std::to_string(int(level)) + ">";
  if (format == Format::kJson) {
    line += std::string("{\"time\":\"") + stamp + "\",\"level\":\"" + level_name(level) + "\",\"message\":";
    json::append_quoted(line, message);
    line += "}";
  } else {
    if (style != Style::kJournal) line = std::string(stamp) + " " + level_name(level) + " ";
    line.append(message);
  }
  line += '\n';
  return line;
}

std::string for_log(std::string_view text, size_t max) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  size_t kept = text.size() > max ? max : text.size();
  out.reserve(kept + 16);
  for (size_t i = 0; i < kept; ++i) {
    unsigned char ch = static_cast<unsigned char>(text[i]);
    if (ch == '\n') {
      out += "\\n";
    } else if (ch == '\r') {
      out += "\\r";
    } else if (ch == '\t') {
      out += "\\t";
    } else if (ch < 0x20 || ch == 0x7f) {
      out += "\\x";
      out += kHex[ch >> 4];
      out += kHex[ch & 15];
    } else if (ch == 0xc2 && i + 1 < kept && static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(text[i + 1]) <= 0x9f) {
      // A C1 control in UTF-8 (NEL, U+0085, ends a line for some readers).
      unsigned char c1 = static_cast<unsigned char>(text[++i]);
      out += "\\u00";
      out += kHex[c1 >> 4];
      out += kHex[c1 & 15];
    } else {
      out += char(ch);
    }
  }
  if (kept < text.size()) out += "...(" + std::to_string(text.size()) + " bytes)";
  return out;
}

#define RAPTOR_LOG_AT(name, level)   \
  void name(const char* fmt, ...) {  \
    va_list args;                    \
    va_start(args, fmt);             \
    write(level, fmt, args);         \
    va_end(args);                    \
  }
RAPTOR_LOG_AT(info, Level::kInfo)
RAPTOR_LOG_AT(warn, Level::kWarn)
RAPTOR_LOG_AT(error, Level::kError)
RAPTOR_LOG_AT(debug, Level::kDebug)
#undef RAPTOR_LOG_AT

}  // namespace raptor::log
