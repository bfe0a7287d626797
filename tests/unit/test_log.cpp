// common/log: text from outside made fit for one log line (escaped, bounded), and the rate limit
// that keeps a client from flooding the log.
#include "common/log.h"
#include "common/log_rate_limit.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "support.h"

using namespace raptor;

TEST_CASE("for_log escapes control characters so that no text can start a log line", "[log]") {
  CHECK(log::for_log("client-typing") == "client-typing");
  CHECK(log::for_log("a\nb") == "a\\nb");
  CHECK(log::for_log("x\r\n2026-01-01T00:00:00Z error forged") == "x\\r\\n2026-01-01T00:00:00Z error forged");
  CHECK(log::for_log(std::string("t\tnul\0bell\a", 11)) == "t\\tnul\\x00bell\\x07");
  CHECK(log::for_log("del\x7f") == "del\\x7f");
  CHECK(log::for_log("nel\xc2\x85" "end") == "nel\\u0085end");   // U+0085, a line break to some readers
  CHECK(log::for_log("caf\xc3\xa9 \xe2\x9c\x93") == "caf\xc3\xa9 \xe2\x9c\x93");  // other UTF-8 kept
}

TEST_CASE("for_log keeps at most max bytes and says how long the text was", "[log]") {
  std::string name(1000, 'e');
  std::string out = log::for_log(name);
  CHECK(out == std::string(log::kMaxFieldBytes, 'e') + "...(1000 bytes)");
  CHECK(log::for_log("abcdef", 3) == "abc...(6 bytes)");
  CHECK(log::for_log("abc", 3) == "abc");
  // Escapes count after the cut: a text of newlines stays bounded by 2 * max bytes and the note.
  CHECK(log::for_log(std::string(10, '\n'), 4) == "\\n\\n\\n\\n...(10 bytes)");
}

TEST_CASE("the log rate limit lets the first lines of each second through and counts the rest", "[log]") {
  log::RateLimit limit(3);
  uint64_t held = 99;
  for (int i = 0; i < 3; ++i) {
    REQUIRE(limit.allow(1000 + i, held));
    CHECK(held == 0);
  }
  for (int i = 0; i < 5; ++i) CHECK_FALSE(limit.allow(1500, held));
  CHECK_FALSE(limit.allow(1999, held));
  // A new second: the next line goes, and says how many were held back.
  REQUIRE(limit.allow(2000, held));
  CHECK(held == 6);
  REQUIRE(limit.allow(2001, held));
  CHECK(held == 0);
}

TEST_CASE("the log rate limit starts its first second at the first line", "[log]") {
  log::RateLimit limit(1);
  uint64_t held = 0;
  CHECK(limit.allow(-5000, held));  // any clock origin
  CHECK_FALSE(limit.allow(-4001, held));
  CHECK(limit.allow(-4000, held));
  CHECK(held == 1);
}

TEST_CASE("log lines carry a timestamp and the level, or only the syslog priority for the journal", "[log]") {
  time_t now = 1798761600;  // 2027-01-01T00:00:00Z
  CHECK(log::format_line(log::Style::kTimestamped, log::Level::kWarn, "drain: slow", now) ==
        "2027-01-01T00:00:00Z warn drain: slow\n");
  // sd-daemon(3): journald reads "<N>" as the line's priority and stamps the line itself.
  CHECK(log::format_line(log::Style::kJournal, log::Level::kError, "reload refused", now) == "<3>reload refused\n");
  CHECK(log::format_line(log::Style::kJournal, log::Level::kWarn, "w", now) == "<4>w\n");
  CHECK(log::format_line(log::Style::kJournal, log::Level::kInfo, "listening", now) == "<6>listening\n");
}

TEST_CASE("log format json: one JSON object a line, after the priority for the journal", "[log]") {
  time_t now = 1798761600;
  CHECK(log::format_line(log::Style::kTimestamped, log::Level::kWarn, "say \"hi\" \\n", now, log::Format::kJson) ==
        "{\"time\":\"2027-01-01T00:00:00Z\",\"level\":\"warn\",\"message\":\"say \\\"hi\\\" \\\\n\"}\n");
  CHECK(log::format_line(log::Style::kJournal, log::Level::kError, "x", now, log::Format::kJson) ==
        "<3>{\"time\":\"2027-01-01T00:00:00Z\",\"level\":\"error\",\"message\":\"x\"}\n");
}

TEST_CASE("log lines are in the journal's style only when JOURNAL_STREAM names stderr's own file", "[log]") {
  FILE* file = tmpfile();
  REQUIRE(file);
  struct stat st;
  REQUIRE(fstat(fileno(file), &st) == 0);
  std::string same = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  std::string other = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino + 1);
  CHECK(log::style_of(same.c_str(), fileno(file)) == log::Style::kJournal);
  // A variable inherited by a process whose stderr was redirected elsewhere: not the journal.
  CHECK(log::style_of(other.c_str(), fileno(file)) == log::Style::kTimestamped);
  CHECK(log::style_of(nullptr, fileno(file)) == log::Style::kTimestamped);
  CHECK(log::style_of("", fileno(file)) == log::Style::kTimestamped);
  CHECK(log::style_of((same + "x").c_str(), fileno(file)) == log::Style::kTimestamped);
  fclose(file);
}

TEST_CASE("log levels by name, for --log-level", "[log]") {
  CHECK(log::level_named("error") == log::Level::kError);
  CHECK(log::level_named("warn") == log::Level::kWarn);
  CHECK(log::level_named("info") == log::Level::kInfo);
  CHECK(log::level_named("debug") == log::Level::kDebug);
  CHECK_FALSE(log::level_named("warning"));
  CHECK_FALSE(log::level_named("INFO"));
  CHECK(log::format_line(log::Style::kJournal, log::Level::kDebug, "m", 0) == "<7>m\n");
}
