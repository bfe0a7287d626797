#include "cli/commands.h"

#include <cstdio>
#include <cstring>
#include <ctime>

#include "cli/api_client.h"
#include "common/log.h"
#include "protocol/json.h"

namespace raptor::cli {
namespace {

int version(const Invocation&) {
  printf("raptor %s\n", RAPTOR_VERSION);
  return kOk;
}

const Command kCommands[] = {
    {"publish", "CHANNEL EVENT DATA", "send EVENT with DATA (text or JSON) to CHANNEL, a name or /channels/... address",
     {{"CHANNEL", "EVENT", "DATA"}, {}}, true, publish},
    {"channels", "[--prefix P]", "list the occupied channels (names starting with P)", {{}, {"--prefix"}}, true,
     channels},
    {"users", "CHANNEL", "list the users in a presence channel", {{"CHANNEL"}, {}}, true, users},
    {"stats", "[--top N] [--channel CHANNEL]",
     "the app's statistics: connections, messages, busiest and largest presence channels (the cluster's with "
     "--redis); --top N lists N of each (1-100), --channel one channel's figures",
     {{}, {"--top", "--channel"}}, true, stats},
    {"health", "", "the server's signed /health: status, webhook and cluster counters", {{}, {}}, true, health},
    {"keygen", "", "print a fresh app id, key and secret (RAPTOR_APP_* lines and the --app form)", {{}, {}}, false,
     keygen},
    {"version", "", "print the version (as --version)", {{}, {}}, false, version},
};

std::string synopsis(const Command& c) {
  std::string out = std::string("raptor ") + c.name;
  if (*c.args) out += std::string(" ") + c.args;
  return out + (c.reaches_server ? " [options]" : c.run == keygen ? " [--json]" : "");
}

std::string command_usage(const Command& c) {
  std::string out = "Usage: " + synopsis(c) + "\n" + c.summary + "\n";
  if (!c.reaches_server) return out;
  out += "\nOptions (raptor --help: how the server and the app are found):\n";
  for (const char* flag : c.syntax.value_flags) out += std::string("  ") + flag + " VALUE\n";
  out += shared_flags_help();
  return out;
}

}  // namespace

std::string commands_help() {
  std::string out = "Commands:\n";
  for (const auto& c : kCommands) {
    std::string lhs = synopsis(c);
    out += "  " + lhs + "\n      " + c.summary + "\n";
  }
  out += "Their exit status: 0 done, 1 failed (no answer, or the server's error, shown on stderr), 2 usage.\n\n"
         "Client options:\n" + shared_flags_help() +
         "The commands that reach a server (publish, channels, users, stats, health) find the server and the app the way the server does: --config or RAPTOR_CONFIG (else\n"
         "the default file when it exists), RAPTOR_HOST, RAPTOR_PORT, RAPTOR_APP_ID, RAPTOR_APP_KEY,\n"
         "RAPTOR_APP_SECRET[_FILE], RAPTOR_APPS; RAPTOR_URL or --url when the server is elsewhere.\n";
  return out;
}

std::optional<int> run_command(int argc, const char* const* argv, EnvLookup env, const ConfigFileReader& read_file) {
  if (argc < 2) return std::nullopt;
  const Command* command = nullptr;
  for (const auto& c : kCommands)
    if (std::strcmp(argv[1], c.name) == 0) command = &c;
  if (!command) return std::nullopt;
  for (int i = 2; i < argc && std::strcmp(argv[i], "--") != 0; ++i) {
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      fputs(command_usage(*command).c_str(), stdout);
      return kOk;
    }
  }
  Invocation inv;
  if (command->reaches_server) {
    ParsedInvocation parsed = parse_invocation(argc, argv, command->syntax, env, read_file);
    if (!parsed.invocation) {
      fprintf(stderr, "%s", parsed.error.c_str());
      fprintf(stderr, "usage: %s (see raptor %s --help)\n", synopsis(*command).c_str(), command->name);
      return kUsage;
    }
    inv = std::move(*parsed.invocation);
  } else {
    for (int i = 2; i < argc; ++i) {
      if (command->run == keygen && std::strcmp(argv[i], "--json") == 0) {
        inv.json = true;
        continue;
      }
      fprintf(stderr, "raptor %s: unexpected '%s'\nusage: %s\n", command->name, log::for_log(argv[i]).c_str(),
              synopsis(*command).c_str());
      return kUsage;
    }
  }
  return command->run(inv);
}

int exchange(const char* command, const Invocation& inv, const http::Request& req, HumanFormat human) {
  ApiReply reply = send(inv.target, req);
  if (!reply.reached) {
    fprintf(stderr, "raptor %s: %s\n", command, reply.error.c_str());
    return kFailed;
  }
  if (reply.status < 200 || reply.status > 299) {
    // The server's own words ({"error": ...}): they name what to fix.
    std::string body = reply.body;
    while (!body.empty() && body.back() == '\n') body.pop_back();
    fprintf(stderr, "raptor %s: %s answered %ld: %s\n", command, inv.target.base_url.c_str(), reply.status,
            log::for_log(body, 4096).c_str());
    return kFailed;
  }
  if (inv.json) {
    fputs(reply.body.c_str(), stdout);
    if (reply.body.empty() || reply.body.back() != '\n') fputc('\n', stdout);
    return kOk;
  }
  json::Ptr body = json::parse(reply.body);
  if (!body) {
    fprintf(stderr, "raptor %s: %s answered %ld with a body that is not JSON\n", command, inv.target.base_url.c_str(),
            reply.status);
    return kFailed;
  }
  fputs(human(body.get()).c_str(), stdout);
  return kOk;
}

}  // namespace raptor::cli
