// raptor: the daemon's entry point. Runs a subcommand (cli/commands.h), or reads the
// configuration, prints how to connect and serves.
#include <sys/prctl.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "cli/commands.h"
#include "common/log.h"
#include "config/config.h"
#include "config/reload.h"
#include "config/tls_files.h"
#include "net/listener.h"
#include "process/server.h"
#include "script/config_file.h"

namespace {

void print_banner(const raptor::Config& c) {
  const char* scheme = c.tls_cert.empty() ? "ws" : "wss";
  printf("raptor %s serving %s://%s:%d (HTTP API on the same port)\n", RAPTOR_VERSION, scheme, c.host.c_str(),
         c.port);
  const raptor::App& app = c.apps.front();
  if (c.default_credentials) {
    // Public development credentials: printing them helps and hides nothing.
    printf("Development app (set --app-id/--app-key/--app-secret for production):\n"
           "  app id: %s   key: %s   secret: %s\n"
           "Connect with pusher-js:\n"
           "  new Pusher('%s', { wsHost: '%s', wsPort: %d, wssPort: %d, forceTLS: %s,\n"
           "                     enabledTransports: ['ws', 'wss'], cluster: 'raptor' })\n",
           app.id.c_str(), app.key.c_str(), app.secret.c_str(), app.key.c_str(), c.host.c_str(), c.port, c.port,
           c.tls_cert.empty() ? "false" : "true");
  } else {
    printf("Apps: %zu (ids:", c.apps.size());
    for (const auto& a : c.apps) printf(" %s", a.id.c_str());
    printf("); keys and secrets are not printed.\n");
  }
  fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  // Not dumpable: no core file, no ptrace and no /proc/PID/{mem,environ} for other processes of
  // the same user, since the memory and environment hold the apps' secrets.
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) perror("raptor: prctl(PR_SET_DUMPABLE)");
  auto env = [](const char* name) -> const char* { return getenv(name); };
  if (auto code = raptor::cli::run_command(argc, argv, env, raptor::script::read_config_file)) return *code;
  raptor::ParseResult parsed = raptor::parse_command_line(argc, argv, env, raptor::script::read_config_file);
  if (!parsed.run) {
    if (parsed.help) parsed.output += "\n" + raptor::cli::commands_help();
    fputs(parsed.output.c_str(), parsed.exit_code ? stderr : stdout);
    return parsed.exit_code;
  }
  raptor::log::set_threshold(parsed.config.log_level);
  raptor::log::set_format(parsed.config.log_format);
  std::string error;
  if (!parsed.config.config_file.empty() && !raptor::script::load_policies(parsed.config, error)) {
    fprintf(stderr, "%s\n", error.c_str());
    return 2;
  }
  // Start-up failures as one line before the banner, not after it and its credentials: TLS
  // files that cannot serve (2, as `raptor check` finds them) and a port in use (1).
  const raptor::Config& c = parsed.config;
  if (!c.tls_cert.empty())
    if (auto why = raptor::tls_files_problem(c.tls_cert, c.tls_key)) {
      fprintf(stderr, "raptor: %s\n", why->c_str());
      return 2;
    }
  if (!raptor::net::claim_port(c.host, c.port, error)) {
    fprintf(stderr, "raptor: %s\n", error.c_str());
    return 1;
  }
  print_banner(parsed.config);
  // SIGHUP: the same command line and environment, the file read again.
  auto reread = [argc, argv](const raptor::Config& running, raptor::Config& next, std::vector<std::string>& kept,
                             std::string& error) {
    raptor::ParseResult again = raptor::parse_command_line(
        argc, argv, [](const char* name) -> const char* { return getenv(name); }, raptor::script::read_config_file);
    if (!again.run) {
      error = again.output;
      return false;
    }
    next = std::move(again.config);
    kept = raptor::keep_restart_only(running, next);  // one policy per running worker, below
    if (!next.config_file.empty() && !raptor::script::load_policies(next, error)) return false;
    raptor::log::set_threshold(next.log_level);  // the new level logs the reload's outcome
    return true;
  };
  raptor::process::Server server(std::move(parsed.config), reread);
  return server.run();
}
