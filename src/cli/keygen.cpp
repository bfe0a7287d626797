// raptor keygen: fresh credentials for an app, from OpenSSL's CSPRNG (seeded by the kernel's).
#include <openssl/rand.h>

#include <cstdio>

#include "cli/commands.h"
#include "protocol/json.h"

namespace raptor::cli {
namespace {

// `bytes` random bytes as lower-case hex; aborts rather than hand out guessable credentials.
std::string random_hex(size_t bytes) {
  static const char kHex[] = "0123456789abcdef";
  unsigned char buffer[64];
  if (bytes > sizeof buffer || RAND_bytes(buffer, int(bytes)) != 1) {
    fputs("raptor keygen: the random generator failed\n", stderr);
    exit(1);
  }
  std::string out;
  for (size_t i = 0; i < bytes; ++i) {
    out += kHex[buffer[i] >> 4];
    out += kHex[buffer[i] & 15];
  }
  return out;
}

}  // namespace

App fresh_app() {
  App app;
  app.id = "app-" + random_hex(4);
  app.key = random_hex(10);
  app.secret = random_hex(24);
  return app;
}

std::string keygen_text(const App& app) {
  return "RAPTOR_APP_ID=" + app.id + "\nRAPTOR_APP_KEY=" + app.key + "\nRAPTOR_APP_SECRET=" + app.secret +
         "\n# as --app (seen in ps: prefer the lines above in /etc/default/raptor): " + app.id + ":" + app.key + ":" +
         app.secret + "\n";
}

int keygen(const Invocation& inv) {
  App app = fresh_app();
  if (!inv.json) {
    fputs(keygen_text(app).c_str(), stdout);
    return kOk;
  }
  std::string out = "{\"id\":";
  json::append_quoted(out, app.id);
  out += ",\"key\":";
  json::append_quoted(out, app.key);
  out += ",\"secret\":";
  json::append_quoted(out, app.secret);
  out += "}\n";
  fputs(out.c_str(), stdout);
  return kOk;
}

}  // namespace raptor::cli
