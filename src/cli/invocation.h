// The command line of a subcommand that talks to a running server (publish, channels, users,
// stats, health): its own arguments, the flags they share, and the server and app they reach. The server
// and the app are found the way the server finds its own: the same configuration file
// (--config, RAPTOR_CONFIG, else the default path when it exists) and the same RAPTOR_*
// variables, so that an operator's shell or /etc/default/raptor needs nothing more. RAPTOR_URL
// or --url names the server when it is not where its configuration says it listens.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/app.h"

namespace raptor::cli {

// What one subcommand takes besides the shared flags.
struct Syntax {
  std::vector<const char*> positional;   // names of its required arguments, in order
  std::vector<const char*> value_flags;  // its own flags that take a value, e.g. "--prefix"
};

// Where requests go and who signs them.
struct Target {
  std::string base_url;  // scheme://host:port, no trailing slash
  App app;
  long timeout_s = 10;  // connecting and answering together
  std::string ca_file;  // PEM CA certificates to trust for https instead of the system's
};

struct Invocation {
  std::vector<std::string> args;              // the positional arguments
  std::map<std::string, std::string> values;  // the command's own flags given
  bool json = false;                          // --json: the server's JSON on stdout
  Target target;
};

// An invocation, or the usage error (exit 2) that stopped it.
struct ParsedInvocation {
  std::optional<Invocation> invocation;
  std::string error;  // "raptor publish: ..." ending in a line break
};

// The flags every client subcommand takes, for its usage text and completion.
std::string shared_flags_help();

// argv[1] is the subcommand's name; argv[2..] are read by `syntax` and the shared flags.
ParsedInvocation parse_invocation(int argc, const char* const* argv, const Syntax& syntax, EnvLookup env,
                                  const ConfigFileReader& read_file);

// The base URL of a server listening per `config`: a wildcard address is reached on loopback.
std::string url_of(const Config& config);

}  // namespace raptor::cli
