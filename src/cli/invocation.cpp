#include "cli/invocation.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace raptor::cli {
namespace {

constexpr long kMaxTimeoutSeconds = 3600;

struct SharedFlag {
  const char* flag;
  const char* value;  // its value's name; null for a switch
  const char* help;
};
constexpr SharedFlag kSharedFlags[] = {
    {"--config", "FILE", "the server's raptor.rb, for its address and apps (default: as the server reads it)"},
    {"--url", "URL", "the server, e.g. https://rt.example.com (env RAPTOR_URL; default: from the configuration)"},
    {"--app-id", "ID", "sign as this configured app (default: the server's default app)"},
    {"--app", "ID:KEY:SECRET", "sign as this app (seen in ps: prefer RAPTOR_APP_ID/KEY/SECRET)"},
    {"--timeout", "SECONDS", "for connecting and the answer together (default 10)"},
    {"--cacert", "FILE", "trust these PEM CA certificates for https, not the system's (env RAPTOR_CA_FILE)"},
    {"--json", nullptr, "print the server's JSON answer as it came (errors stay on stderr)"},
};

bool takes_value(const Syntax& syntax, const std::string& flag) {
  for (const auto& f : kSharedFlags)
    if (flag == f.flag) return f.value != nullptr;
  return std::find(syntax.value_flags.begin(), syntax.value_flags.end(), flag) != syntax.value_flags.end();
}

bool known(const Syntax& syntax, const std::string& flag) {
  for (const auto& f : kSharedFlags)
    if (flag == f.flag) return true;
  return std::find(syntax.value_flags.begin(), syntax.value_flags.end(), flag) != syntax.value_flags.end();
}

}  // namespace

std::string shared_flags_help() {
  std::string out;
  for (const auto& f : kSharedFlags) {
    std::string lhs = std::string("  ") + f.flag + (f.value ? std::string(" ") + f.value : "");
    out += lhs + std::string(lhs.size() < 26 ? 26 - lhs.size() : 1, ' ') + f.help + "\n";
  }
  return out;
}

std::string url_of(const Config& config) {
  std::string host = config.host;
  if (host == "0.0.0.0" || host.empty()) host = "127.0.0.1";
  if (host == "::") host = "::1";
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return (config.tls_cert.empty() ? "http://" : "https://") + host + ":" + std::to_string(config.port);
}

ParsedInvocation parse_invocation(int argc, const char* const* argv, const Syntax& syntax, EnvLookup env,
                                  const ConfigFileReader& read_file) {
  const std::string command = std::string("raptor ") + argv[1];
  ParsedInvocation out;
  auto fail = [&](const std::string& why) {
    out.error = command + ": " + why + "\n";
    return out;
  };
  Invocation inv;
  std::map<std::string, std::string> shared;
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--") {  // the rest is positional, e.g. DATA starting with "--"
      for (++i; i < argc; ++i) inv.args.push_back(argv[i]);
      break;
    }
    if (arg.size() < 2 || arg.compare(0, 2, "--") != 0) {
      inv.args.push_back(arg);
      continue;
    }
    std::string value;
    size_t eq = arg.find('=');
    bool inline_value = eq != std::string::npos;
    if (inline_value) value = arg.substr(eq + 1), arg.resize(eq);
    if (!known(syntax, arg)) return fail("unknown option '" + arg + "'");
    if (!takes_value(syntax, arg)) {
      if (inline_value) return fail(arg + " takes no value");
      inv.json = true;  // --json is the only shared switch
      continue;
    }
    if (!inline_value) {
      if (i + 1 >= argc) return fail(arg + " needs a value");
      value = argv[++i];
    }
    bool own = std::find(syntax.value_flags.begin(), syntax.value_flags.end(), arg) != syntax.value_flags.end();
    (own ? inv.values : shared)[arg] = value;
  }
  if (inv.args.size() != syntax.positional.size()) {
    std::string names;
    for (const char* p : syntax.positional) names += std::string(" ") + p;
    return fail(inv.args.size() < syntax.positional.size() ? "missing arguments: expected" + names
                                                           : "too many arguments: expected" + (names.empty() ? " none" : names));
  }

  if (shared.count("--timeout")) {
    char* end = nullptr;
    const std::string& t = shared["--timeout"];
    long s = std::strtol(t.c_str(), &end, 10);
    if (t.empty() || *end || s < 1 || s > kMaxTimeoutSeconds) return fail("--timeout takes 1 to 3600 seconds");
    inv.target.timeout_s = s;
  }

  // The server's own reading of the same file and environment: its address and its apps.
  std::vector<const char*> server_argv{"raptor"};
  if (shared.count("--config")) {
    server_argv.push_back("--config");
    server_argv.push_back(shared["--config"].c_str());
  }
  ParseResult server = parse_command_line(int(server_argv.size()), server_argv.data(), env, read_file);
  if (!server.run) {
    std::string why = server.output;
    while (!why.empty() && why.back() == '\n') why.pop_back();
    return fail("reading the server's configuration: " + why);
  }

  if (shared.count("--app")) {
    if (shared.count("--app-id")) return fail("--app and --app-id go separately: --app names its own id");
    if (!parse_app(shared["--app"], inv.target.app)) return fail("--app takes ID:KEY:SECRET");
  } else if (shared.count("--app-id")) {
    const std::string& id = shared["--app-id"];
    auto it = std::find_if(server.config.apps.begin(), server.config.apps.end(), [&](const App& a) { return a.id == id; });
    if (it == server.config.apps.end())
      return fail("no app '" + id + "' in the configuration" +
                  (server.config.config_file.empty() ? "" : " (" + server.config.config_file + ")"));
    inv.target.app = *it;
  } else {
    inv.target.app = server.config.apps.front();
  }

  if (shared.count("--cacert")) {
    inv.target.ca_file = shared["--cacert"];
  } else if (const char* ca = env("RAPTOR_CA_FILE")) {
    inv.target.ca_file = ca;
  }

  if (shared.count("--url")) {
    inv.target.base_url = shared["--url"];
  } else if (const char* url = env("RAPTOR_URL")) {
    inv.target.base_url = url;
  } else {
    inv.target.base_url = url_of(server.config);
  }
  std::string& url = inv.target.base_url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
    return fail("the server's URL must start with http:// or https://");
  out.invocation = std::move(inv);
  return out;
}

}  // namespace raptor::cli
