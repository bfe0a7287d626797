// raptor's commands besides serving and `check` (which config/ reads): one table, read by the
// dispatcher and by --help, so by the man page (help2man) and the bash completion, which are made
// from --help. Exit codes: 0 done, 1 failed (no answer, or the server's error, shown on stderr as
// it sent it), 2 usage (the command line or the configuration it names is wrong). docs/cli.md.
#pragma once
#include <optional>
#include <string>

#include <cjson/cJSON.h>

#include "cli/invocation.h"
#include "config/config.h"
#include "http/request.h"

namespace raptor::cli {

enum Exit { kOk = 0, kFailed = 1, kUsage = 2 };

struct Command {
  const char* name;
  const char* args;  // after the name, for usage: "CHANNEL EVENT DATA"
  const char* summary;
  Syntax syntax;
  bool reaches_server;  // takes the shared flags (invocation.h) and signs requests
  int (*run)(const Invocation&);
};

// Runs `raptor NAME ...` when argv[1] names one of the commands, else nullopt (serve, or check).
std::optional<int> run_command(int argc, const char* const* argv, EnvLookup env, const ConfigFileReader& read_file);

// The "Commands:" section of raptor --help.
std::string commands_help();

// --- the commands, one family per file ---
int publish(const Invocation& inv);   // publish.cpp
int channels(const Invocation& inv);  // channels.cpp
int users(const Invocation& inv);     // channels.cpp
int stats(const Invocation& inv);     // stats.cpp
int health(const Invocation& inv);    // stats.cpp
int keygen(const Invocation& inv);    // keygen.cpp

// Sends `req` (signed by signed_request) and prints the answer: with --json the body as it
// came, else `human(body)`; errors on stderr, prefixed with "raptor COMMAND: ".
using HumanFormat = std::string (*)(const cJSON* body);
int exchange(const char* command, const Invocation& inv, const http::Request& req, HumanFormat human);

// The human-readable forms of the server's answers (pure, for the unit tests).
std::string channel_lines(const cJSON* body);  // one name a line, sorted
std::string user_lines(const cJSON* body);     // one user id a line
std::string health_lines(const cJSON* body);   // "path.to.field: value" lines
std::string stats_lines(const cJSON* body);    // an app's statistics: figures, then its busiest channels
std::string channel_stats_lines(const cJSON* body);  // one channel's statistics
// A channel given by name or by its URL resource (/channels/private/a/b): its name, or why not.
bool channel_name_of(const std::string& given, std::string& name, std::string& why);

// A fresh app from the system's CSPRNG: id "app-" and 8 hex digits, a 20-hex-digit key and a
// 48-hex-digit secret, as the package's postinst makes them.
App fresh_app();
// RAPTOR_APP_ID/KEY/SECRET lines for /etc/default/raptor and a shell, then the --app form.
std::string keygen_text(const App& app);

}  // namespace raptor::cli
