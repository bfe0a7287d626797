#include "config/safe_defaults.h"

#include <arpa/inet.h>

namespace raptor {
namespace {

// The development app's secret, the placeholders of examples/ and docs/, and the usual ones.
constexpr std::string_view kPlaceholderSecrets[] = {
    "app-secret", "change-me", "change-me-too", "changeme", "my-secret", "secret", "your-secret", "password",
};

}  // namespace

bool is_loopback(std::string_view host) {
  if (host == "localhost" || host == "::1" || host == "[::1]") return true;
  in_addr v4{};
  return inet_pton(AF_INET, std::string(host).c_str(), &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127;
}

bool is_placeholder_secret(std::string_view secret) {
  for (auto p : kPlaceholderSecrets)
    if (secret == p) return true;
  return false;
}

std::optional<std::string> unsafe_credentials(const Config& config, const std::string& source) {
  if (is_loopback(config.host)) return std::nullopt;
  if (config.default_credentials)
    return "the development app (app-key / app-secret) is served on loopback only, not on " + config.host +
           ": give your app with --app-id, --app-key and --app-secret-file (or RAPTOR_APP_ID, RAPTOR_APP_KEY and "
           "RAPTOR_APP_SECRET[_FILE]), or with `app` in raptor.rb";
  for (const App& app : config.apps)
    if (is_placeholder_secret(app.secret))
      return source + ": app " + app.id + " has the placeholder secret '" + app.secret + "', which is refused on " +
             config.host + " (it is allowed on loopback only): set a real one, e.g. from `openssl rand -hex 32` through "
             "env(\"RAPTOR_...\")";
  return std::nullopt;
}

}  // namespace raptor
