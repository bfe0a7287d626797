// config: defaults, environment (through a fake lookup), flags overriding it, --app specs and
// RAPTOR_APPS, errors with exit status 2, duplicate apps, --help and --version; the cluster's
// settings (redis:// URLs, prefix, node id).
#include "config/config.h"

#include <unistd.h>

#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "support.h"

using namespace raptor;

namespace {

std::map<std::string, std::string> g_env;

const char* fake_env(const char* name) {
  auto it = g_env.find(name);
  return it == g_env.end() ? nullptr : it->second.c_str();
}

ParseResult parse(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
  g_env = std::move(env);
  args.insert(args.begin(), "raptor");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  argv.push_back(nullptr);
  return parse_command_line(int(args.size()), argv.data(), fake_env);
}

// A file holding `content` for as long as the test runs.
struct TempFile {
  std::string path;
  explicit TempFile(const std::string& content) {
    char name[] = "/tmp/raptor-test-XXXXXX";
    int fd = mkstemp(name);
    REQUIRE(fd >= 0);
    REQUIRE(write(fd, content.data(), content.size()) == ssize_t(content.size()));
    close(fd);
    path = name;
  }
  ~TempFile() { unlink(path.c_str()); }
};

// Parsing failed with exit status 2 and a one-line message.
void require_error(const ParseResult& r) {
  INFO("output: " << r.output);
  CHECK_FALSE(r.run);
  CHECK(r.exit_code == 2);
  CHECK(r.output.rfind("raptor: ", 0) == 0);
  CHECK(r.output.back() == '\n');
}

}  // namespace

TEST_CASE("no flags and no environment: the development app on 127.0.0.1:6001", "[config]") {
  ParseResult r = parse({});
  REQUIRE(r.run);
  CHECK(r.exit_code == 0);
  const Config& c = r.config;
  CHECK(c.host == "127.0.0.1");
  CHECK(c.port == 6001);
  CHECK(c.tls_cert.empty());
  CHECK(c.tls_key.empty());
  CHECK(c.limits.activity_timeout_s == 120);
  CHECK(c.limits.pong_timeout_s == 30);
  CHECK(c.limits.max_send_queue_bytes == 1048576);
  CHECK(c.max_message_bytes == 65536);
  CHECK(c.event_loop == Config::EventLoop::Epoll);
  CHECK_FALSE(c.compression);
  CHECK(c.default_credentials);
  REQUIRE(c.apps.size() == 1);
  CHECK(c.apps[0].id == "app-id");
  CHECK(c.apps[0].key == "app-key");
  CHECK(c.apps[0].secret == "app-secret");
  CHECK(c.apps[0].client_events);
  CHECK(c.apps[0].user_authentication_timeout_s == 0);
  CHECK(c.apps[0].cache_ttl_s == 1800);
  CHECK_FALSE(c.apps[0].subscription_count_events);
}

TEST_CASE("flags set every option as a separate or an attached value", "[config]") {
  ParseResult r = parse({"--host", "0.0.0.0", "--port=7000", "--app-id", "myid", "--app-key=mykey", "--app-secret",
                         "mysecret", "--no-client-events", "--tls-cert", "/c.pem", "--tls-key=/k.pem",
                         "--activity-timeout", "60", "--pong-timeout=10", "--max-send-queue", "4096",
                         "--user-authentication-timeout", "30", "--cache-ttl=60", "--subscription-count",
                         "--event-loop", "poll", "--compression", "on"});
  REQUIRE(r.run);
  const Config& c = r.config;
  CHECK(c.host == "0.0.0.0");
  CHECK(c.port == 7000);
  CHECK(c.tls_cert == "/c.pem");
  CHECK(c.tls_key == "/k.pem");
  CHECK(c.limits.activity_timeout_s == 60);
  CHECK(c.limits.pong_timeout_s == 10);
  CHECK(c.limits.max_send_queue_bytes == 4096);
  CHECK(c.event_loop == Config::EventLoop::Poll);
  CHECK(c.compression);
  CHECK_FALSE(c.default_credentials);
  REQUIRE(c.apps.size() == 1);
  CHECK(c.apps[0].id == "myid");
  CHECK(c.apps[0].key == "mykey");
  CHECK(c.apps[0].secret == "mysecret");
  CHECK_FALSE(c.apps[0].client_events);
  CHECK(c.apps[0].user_authentication_timeout_s == 30);
  CHECK(c.apps[0].cache_ttl_s == 60);
  CHECK(c.apps[0].subscription_count_events);
}

TEST_CASE("the default app's id, key and secret go together: some of them alone exit 2", "[config]") {
  // With only some, the development app's public secret (or key) would stay in use.
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"--app-id=x"}, {"--app-key=x"}, {"--app-secret=x"}, {"--app-id", "prod", "--app-key", "pk"},
           {"--app-id", "prod", "--app-secret", "s"}}) {
    INFO(args[0]);
    ParseResult r = parse(args);
    require_error(r);
    CHECK(r.output.find("all three") != std::string::npos);
  }
  require_error(parse({"--app-key", "pk"}, {{"RAPTOR_APP_ID", "prod"}}));
  // All three, from flags and environment mixed: no development credentials in use.
  ParseResult r = parse({"--app-key", "pk"}, {{"RAPTOR_APP_ID", "prod"}, {"RAPTOR_APP_SECRET", "s"}});
  REQUIRE(r.run);
  CHECK_FALSE(r.config.default_credentials);
  REQUIRE(r.config.apps.size() == 1);
  CHECK(r.config.apps[0].secret == "s");
}

TEST_CASE("the development app is not served beside --app or RAPTOR_APPS apps: the first is the default app",
          "[config]") {
  for (auto [args, env] : std::vector<std::pair<std::vector<std::string>, std::map<std::string, std::string>>>{
           {{"--app", "2:k2:s2", "--app", "3:k3:s3"}, {}}, {{}, {{"RAPTOR_APPS", "2:k2:s2,3:k3:s3"}}}}) {
    ParseResult r = parse(args, env);
    REQUIRE(r.run);
    CHECK_FALSE(r.config.default_credentials);
    REQUIRE(r.config.apps.size() == 2);
    CHECK(r.config.apps[0].id == "2");
    CHECK(r.config.apps[0].key == "k2");
    CHECK(r.config.apps[0].secret == "s2");
    CHECK(r.config.apps[1].id == "3");
  }
  // The default app's settings go to it.
  ParseResult r = parse({"--app", "2:k2:s2", "--no-client-events", "--cache-ttl", "5"});
  REQUIRE(r.config.apps.size() == 1);
  CHECK_FALSE(r.config.apps[0].client_events);
  CHECK(r.config.apps[0].cache_ttl_s == 5);
}

TEST_CASE("the secret read from a file: --app-secret-file and RAPTOR_APP_SECRET_FILE", "[config]") {
  TempFile file("s3cret-from-file\n");
  ParseResult r = parse({"--app-id", "prod", "--app-key", "pk", "--app-secret-file", file.path});
  REQUIRE(r.run);
  CHECK(r.config.apps[0].secret == "s3cret-from-file");  // the line break that ends the file is not part of it
  CHECK_FALSE(r.config.default_credentials);

  TempFile crlf("s3cret:with:colons\r\n");
  r = parse({}, {{"RAPTOR_APP_ID", "prod"}, {"RAPTOR_APP_KEY", "pk"}, {"RAPTOR_APP_SECRET_FILE", crlf.path}});
  REQUIRE(r.run);
  CHECK(r.config.apps[0].secret == "s3cret:with:colons");
  // A flag overrides the environment, the file included.
  r = parse({"--app-secret-file", file.path},
            {{"RAPTOR_APP_ID", "prod"}, {"RAPTOR_APP_KEY", "pk"}, {"RAPTOR_APP_SECRET", "env"}});
  REQUIRE(r.run);
  CHECK(r.config.apps[0].secret == "s3cret-from-file");
}

TEST_CASE("a secret file that cannot be used exits 2 naming the file, never its content", "[config]") {
  TempFile empty("\n");
  TempFile two_lines("first-line-secret\nsecond\n");
  for (const std::string& path :
       {std::string("/nonexistent/raptor-secret"), std::string("/"), empty.path, two_lines.path}) {
    INFO(path);
    ParseResult r = parse({"--app-id", "prod", "--app-key", "pk", "--app-secret-file", path});
    require_error(r);
    CHECK(r.output.find(path) != std::string::npos);
    CHECK(r.output.find("first-line-secret") == std::string::npos);
  }
  ParseResult r = parse({"--app-id", "prod", "--app-key", "pk"}, {{"RAPTOR_APP_SECRET_FILE", "/nonexistent/s"}});
  require_error(r);
  CHECK(r.output.find("RAPTOR_APP_SECRET_FILE") != std::string::npos);
  CHECK(r.output.find("No such file") != std::string::npos);
}

TEST_CASE("environment variables set options and flags override them", "[config]") {
  std::map<std::string, std::string> env = {
      {"RAPTOR_HOST", "10.0.0.1"},        {"RAPTOR_PORT", "7001"},         {"RAPTOR_APP_ID", "envid"},
      {"RAPTOR_APP_KEY", "envkey"},       {"RAPTOR_APP_SECRET", "envsec"}, {"RAPTOR_TLS_CERT", "/e.pem"},
      {"RAPTOR_TLS_KEY", "/ek.pem"},      {"RAPTOR_ACTIVITY_TIMEOUT", "45"}, {"RAPTOR_PONG_TIMEOUT", "15"},
      {"RAPTOR_MAX_SEND_QUEUE", "2048"},  {"RAPTOR_CLIENT_EVENTS", "false"},
      {"RAPTOR_USER_AUTHENTICATION_TIMEOUT", "20"}, {"RAPTOR_CACHE_TTL", "90"},
      {"RAPTOR_SUBSCRIPTION_COUNT", "true"}, {"RAPTOR_EVENT_LOOP", "poll"}, {"RAPTOR_COMPRESSION", "true"}};
  ParseResult r = parse({}, env);
  REQUIRE(r.run);
  const Config& c = r.config;
  CHECK(c.host == "10.0.0.1");
  CHECK(c.port == 7001);
  CHECK(c.tls_cert == "/e.pem");
  CHECK(c.tls_key == "/ek.pem");
  CHECK(c.limits.activity_timeout_s == 45);
  CHECK(c.limits.pong_timeout_s == 15);
  CHECK(c.limits.max_send_queue_bytes == 2048);
  CHECK(c.event_loop == Config::EventLoop::Poll);
  CHECK(c.compression);
  CHECK_FALSE(c.default_credentials);
  REQUIRE(c.apps.size() == 1);
  CHECK(c.apps[0].id == "envid");
  CHECK(c.apps[0].key == "envkey");
  CHECK(c.apps[0].secret == "envsec");
  CHECK_FALSE(c.apps[0].client_events);
  CHECK(c.apps[0].user_authentication_timeout_s == 20);
  CHECK(c.apps[0].cache_ttl_s == 90);
  CHECK(c.apps[0].subscription_count_events);

  ParseResult o = parse({"--port", "7002", "--app-id", "flagid", "--host=::1"}, env);
  REQUIRE(o.run);
  CHECK(o.config.port == 7002);
  CHECK(o.config.host == "::1");
  CHECK(o.config.apps[0].id == "flagid");
  CHECK(o.config.apps[0].key == "envkey");  // untouched by flags
}

TEST_CASE("RAPTOR_SUBSCRIPTION_COUNT takes the boolean spellings, the flag turns it on", "[config]") {
  for (const char* yes : {"1", "true", "yes", "on"}) CHECK(parse({}, {{"RAPTOR_SUBSCRIPTION_COUNT", yes}}).config.apps[0].subscription_count_events);
  for (const char* no : {"0", "false", "no", "off"}) {
    ParseResult r = parse({}, {{"RAPTOR_SUBSCRIPTION_COUNT", no}});
    REQUIRE(r.run);
    CHECK_FALSE(r.config.apps[0].subscription_count_events);
  }
  ParseResult bad = parse({}, {{"RAPTOR_SUBSCRIPTION_COUNT", "sometimes"}});
  require_error(bad);
  CHECK(bad.output.find("RAPTOR_SUBSCRIPTION_COUNT") != std::string::npos);
  CHECK(parse({"--subscription-count"}, {{"RAPTOR_SUBSCRIPTION_COUNT", "false"}}).config.apps[0].subscription_count_events);
  // Like the other app settings, it is the default app's; --app apps keep the defaults.
  ParseResult r = parse({"--subscription-count", "--cache-ttl", "5", "--user-authentication-timeout", "9", "--app-id", "1",
                         "--app-key", "k1", "--app-secret", "s1", "--app", "2:k2:s2"});
  REQUIRE(r.config.apps.size() == 2);
  CHECK_FALSE(r.config.apps[1].subscription_count_events);
  CHECK(r.config.apps[1].cache_ttl_s == 1800);
  CHECK(r.config.apps[1].user_authentication_timeout_s == 0);
}

TEST_CASE("RAPTOR_CLIENT_EVENTS takes the usual boolean spellings", "[config]") {
  for (const char* yes : {"1", "true", "yes", "on"}) {
    ParseResult r = parse({}, {{"RAPTOR_CLIENT_EVENTS", yes}});
    REQUIRE(r.run);
    CHECK(r.config.apps[0].client_events);
  }
  for (const char* no : {"0", "false", "no", "off"}) {
    ParseResult r = parse({}, {{"RAPTOR_CLIENT_EVENTS", no}});
    REQUIRE(r.run);
    CHECK_FALSE(r.config.apps[0].client_events);
  }
  require_error(parse({}, {{"RAPTOR_CLIENT_EVENTS", "maybe"}}));
  // The flag wins over the environment.
  ParseResult r = parse({"--no-client-events"}, {{"RAPTOR_CLIENT_EVENTS", "true"}});
  REQUIRE(r.run);
  CHECK_FALSE(r.config.apps[0].client_events);
}

TEST_CASE("extra apps from --app come after the default one and secrets may contain colons", "[config]") {
  ParseResult r = parse({"--app-id", "1", "--app-key", "k1", "--app-secret", "s1", "--app", "2:key2:secret2",
                         "--app=3:key3:sec:ret:3", "--no-client-events"});
  REQUIRE(r.run);
  const auto& apps = r.config.apps;
  REQUIRE(apps.size() == 3);
  CHECK(apps[0].id == "1");
  CHECK_FALSE(apps[0].client_events);  // --no-client-events is for the default app
  CHECK(apps[1].id == "2");
  CHECK(apps[1].key == "key2");
  CHECK(apps[1].secret == "secret2");
  CHECK(apps[1].client_events);
  CHECK(apps[2].id == "3");
  CHECK(apps[2].key == "key3");
  CHECK(apps[2].secret == "sec:ret:3");
}

TEST_CASE("RAPTOR_APPS is a comma-separated list of ID:KEY:SECRET", "[config]") {
  ParseResult r = parse({"--app", "4:k4:s4"}, {{"RAPTOR_APPS", "2:k2:s2,3:k3:s3"}});
  REQUIRE(r.run);
  const auto& apps = r.config.apps;
  REQUIRE(apps.size() == 3);
  CHECK(apps[0].id == "2");
  CHECK(apps[0].secret == "s2");
  CHECK(apps[1].id == "3");
  CHECK(apps[1].key == "k3");
  CHECK(apps[2].id == "4");
  ParseResult empty = parse({}, {{"RAPTOR_APPS", ""}});
  REQUIRE(empty.run);
  CHECK(empty.config.apps.size() == 1);
}

TEST_CASE("malformed app specs are errors that do not echo the spec", "[config]") {
  for (const char* spec : {"", "onlyid", "id:key", "id:key:", ":key:secret", "id::secret"}) {
    INFO("spec '" << spec << "'");
    ParseResult r = parse({"--app", spec});
    require_error(r);
    if (*spec) CHECK(r.output.find(spec) == std::string::npos);
  }
  for (const char* list : {"2:k2:s2,broken:topsecret", "2:k2:s2,,3:k3:s3"}) {
    INFO("RAPTOR_APPS '" << list << "'");
    ParseResult r = parse({}, {{"RAPTOR_APPS", list}});
    require_error(r);
    CHECK(r.output.find("topsecret") == std::string::npos);
    CHECK(r.output.find("RAPTOR_APPS") != std::string::npos);
  }
}

TEST_CASE("invalid secrets are not echoed, other invalid values are", "[config]") {
  ParseResult r = parse({"--app-secret="});
  require_error(r);
  CHECK(r.output.find("--app-secret") != std::string::npos);
  ParseResult port = parse({"--port", "http"});
  require_error(port);
  CHECK(port.output.find("'http'") != std::string::npos);
  CHECK(port.output.find("--port") != std::string::npos);
  ParseResult env = parse({}, {{"RAPTOR_PORT", "99999"}});
  require_error(env);
  CHECK(env.output.find("RAPTOR_PORT") != std::string::npos);
}

TEST_CASE("invalid values exit with status 2", "[config]") {
  const std::vector<std::vector<std::string>> cases = {
      {"--port", "0"},          {"--port", "65536"},       {"--port", "80x"},
      {"--port", "-1"},         {"--port="},               {"--host="},
      {"--app-id="},            {"--app-key="},            {"--activity-timeout", "0"},
      {"--activity-timeout", "3601"}, {"--pong-timeout", "0"}, {"--pong-timeout", "ten"},
      {"--max-send-queue", "1023"}, {"--max-send-queue", "1073741825"}, {"--tls-cert="},
      {"--user-authentication-timeout", "-1"}, {"--user-authentication-timeout", "3601"},
      {"--user-authentication-timeout", "1m"}, {"--cache-ttl", "0"}, {"--cache-ttl", "86401"},
      {"--cache-ttl="}, {"--subscription-count=yes"}, {"--event-loop", "kqueue"}, {"--event-loop", "EPOLL"},
      {"--compression", "gzip"}, {"--compression="},
  };
  for (const auto& args : cases) {
    INFO(args[0] << " " << (args.size() > 1 ? args[1] : ""));
    require_error(parse(args));
  }
  // The edges of each range are fine.
  for (const std::vector<std::string>& ok :
       std::vector<std::vector<std::string>>{{"--port", "1"}, {"--port", "65535"}, {"--activity-timeout", "3600"},
                                             {"--pong-timeout", "1"}, {"--max-send-queue", "1024"},
                                             {"--max-send-queue", "1073741824"},
                                             {"--user-authentication-timeout", "0"},
                                             {"--user-authentication-timeout", "3600"}, {"--cache-ttl", "1"},
                                             {"--cache-ttl", "86400"}}) {
    INFO(ok[0] << " " << ok[1]);
    CHECK(parse(ok).run);
  }
}

TEST_CASE("the drain period: 10 s by default and 0 to 3600 from the flag or the environment", "[config][drain]") {
  CHECK(parse({}).config.drain_seconds == 10);
  CHECK(parse({"--drain-seconds", "0"}).config.drain_seconds == 0);
  CHECK(parse({"--drain-seconds=3600"}).config.drain_seconds == 3600);
  CHECK(parse({}, {{"RAPTOR_DRAIN_SECONDS", "25"}}).config.drain_seconds == 25);
  CHECK(parse({"--drain-seconds", "5"}, {{"RAPTOR_DRAIN_SECONDS", "25"}}).config.drain_seconds == 5);
  for (const char* bad : {"-1", "3601", "ten", "2s", ""}) {
    INFO(bad);
    ParseResult r = parse({"--drain-seconds", bad});
    require_error(r);
    CHECK(r.output.find("a whole number of seconds from 0 to 3600") != std::string::npos);
  }
}

TEST_CASE("unknown options, missing values and half a TLS pair exit with status 2", "[config]") {
  ParseResult unknown = parse({"--bogus"});
  require_error(unknown);
  CHECK(unknown.output.find("--bogus") != std::string::npos);
  require_error(parse({"positional"}));
  require_error(parse({"-p", "80"}));
  ParseResult missing = parse({"--port"});
  require_error(missing);
  CHECK(missing.output.find("--port") != std::string::npos);
  require_error(parse({"--tls-cert", "/c.pem"}));
  require_error(parse({"--tls-key", "/k.pem"}));
  require_error(parse({}, {{"RAPTOR_TLS_CERT", "/c.pem"}}));
  require_error(parse({}, {{"RAPTOR_CACHE_TTL", "forever"}}));
  require_error(parse({}, {{"RAPTOR_USER_AUTHENTICATION_TIMEOUT", "-5"}}));
}

TEST_CASE("two apps may not share an id or a key", "[config]") {
  const std::vector<std::string> main_app = {"--app-id", "main", "--app-key", "mk", "--app-secret", "s"};
  auto with_main = [&main_app](std::vector<std::string> more) {
    more.insert(more.begin(), main_app.begin(), main_app.end());
    return parse(more);
  };
  require_error(with_main({"--app", "main:other-key:s"}));  // id of the default app
  require_error(with_main({"--app", "other-id:mk:s"}));     // key of the default app
  require_error(parse({"--app", "2:k2:s", "--app", "2:k3:s"}));
  require_error(parse({"--app", "2:k2:s", "--app", "3:k2:s"}));
  require_error(parse({}, {{"RAPTOR_APPS", "2:k2:s,2:k3:t"}}));
  require_error(parse({"--app", "2:k2:s"}, {{"RAPTOR_APPS", "3:k2:t"}}));
  // The same secret is allowed.
  CHECK(parse({"--app", "2:k2:s", "--app", "3:k3:s"}).run);
  // The default app's id can move out of the way.
  ParseResult moved = with_main({"--app", "app-id:k2:s"});
  REQUIRE(moved.run);
  CHECK(moved.config.apps.size() == 2);
}

TEST_CASE("help flags print the usage and exit 0", "[config]") {
  for (const char* flag : {"--help", "-h"}) {
    ParseResult r = parse({"--port", "7000", flag, "--bogus"});
    CHECK_FALSE(r.run);
    CHECK(r.exit_code == 0);
    CHECK(r.output == usage());
  }
  std::string u = usage();
  CHECK(u.rfind("Usage: raptor", 0) == 0);
  for (const char* word : {"--host", "--port", "--app-id", "--app-key", "--app-secret", "--app ", "--no-client-events",
                           "--tls-cert", "--tls-key", "--activity-timeout", "--pong-timeout", "--max-send-queue",
                           "--help", "--version", "RAPTOR_HOST", "RAPTOR_PORT", "RAPTOR_APP_ID", "RAPTOR_APP_KEY",
                           "RAPTOR_APP_SECRET", "RAPTOR_APPS", "RAPTOR_CLIENT_EVENTS", "RAPTOR_TLS_CERT",
                           "RAPTOR_TLS_KEY", "RAPTOR_ACTIVITY_TIMEOUT", "RAPTOR_PONG_TIMEOUT",
                           "RAPTOR_MAX_SEND_QUEUE", "--user-authentication-timeout",
                           "RAPTOR_USER_AUTHENTICATION_TIMEOUT", "--cache-ttl", "RAPTOR_CACHE_TTL",
                           "--subscription-count", "RAPTOR_SUBSCRIPTION_COUNT", "--app-secret-file",
                           "RAPTOR_APP_SECRET_FILE"}) {
    INFO(word);
    CHECK(u.find(word) != std::string::npos);
  }
}

TEST_CASE("the version flag prints the build version and exits 0", "[config]") {
  ParseResult r = parse({"--version"});
  CHECK_FALSE(r.run);
  CHECK(r.exit_code == 0);
  CHECK(r.output == std::string("raptor ") + RAPTOR_VERSION + "\n");
  CHECK(std::string(RAPTOR_VERSION).find('.') != std::string::npos);
}

// ------------------------------------------------------------------ the Ruby configuration file

namespace {

// Stands in for script::read_config_file: a file "port 7000, app filed" or a broken one.
bool fake_file(const std::string& path, Config& c, std::string& message) {
  if (path == "broken.rb") return message = "broken.rb:3: listen: port must be an Integer (ArgumentError)", false;
  if (path == "no-apps.rb") return c.host = "0.0.0.0", message.clear(), true;
  if (path == "placeholder.rb" || path == "local-placeholder.rb") {
    c.host = path == "placeholder.rb" ? "0.0.0.0" : "127.0.0.1";
    c.apps = {App{"shop", "shop-key", "change-me"}};
    c.default_credentials = false;
    message = "shop (no hooks)";
    return true;
  }
  c.port = 7000;
  c.host = "0.0.0.0";
  c.apps = {App{"filed", "filed-key", "filed-secret"}, App{"other", "other-key", "other-secret"}};
  c.default_credentials = false;
  message = "filed (hooks: authorize); other (no hooks)";
  return true;
}

ParseResult parse_with_file(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
  g_env = std::move(env);
  args.insert(args.begin(), "raptor");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  return parse_command_line(int(args.size()), argv.data(), fake_env, fake_file);
}

}  // namespace

TEST_CASE("the config file fills the configuration, RAPTOR_* and flags override it", "[config][file]") {
  ParseResult r = parse_with_file({"--config", "raptor.rb", "--port", "7100"}, {{"RAPTOR_HOST", "127.0.0.2"}});
  REQUIRE(r.run);
  CHECK(r.config.config_file.empty());  // set by the real reader, not by the fake
  CHECK(r.config.port == 7100);
  CHECK(r.config.host == "127.0.0.2");
  REQUIRE(r.config.apps.size() == 2);
  CHECK(r.config.apps[0].id == "filed");  // the file's first app is the default app …
  CHECK_FALSE(r.config.default_credentials);

  r = parse_with_file({"--config=raptor.rb", "--app-secret", "from-flag"});
  REQUIRE(r.run);
  CHECK(r.config.port == 7000);
  CHECK(r.config.apps[0].secret == "from-flag");  // … which --app-* flags change
  CHECK(r.config.apps[1].id == "other");

  r = parse_with_file({}, {{"RAPTOR_CONFIG", "raptor.rb"}});
  REQUIRE(r.run);
  CHECK(r.config.port == 7000);
}

TEST_CASE("a broken config file stops the start with exit 2 and file:line", "[config][file]") {
  ParseResult r = parse_with_file({"--config", "broken.rb"});
  CHECK_FALSE(r.run);
  CHECK(r.exit_code == 2);
  CHECK(r.output == "broken.rb:3: listen: port must be an Integer (ArgumentError)\n");
}

TEST_CASE("raptor check FILE: 0 with a summary, or 2 with the error", "[config][file]") {
  ParseResult ok = parse_with_file({"check", "raptor.rb"});
  CHECK_FALSE(ok.run);
  CHECK(ok.exit_code == 0);
  CHECK(ok.output ==
        "raptor.rb: OK: listens on ws://0.0.0.0:7000; 2 apps: filed (hooks: authorize); other (no hooks)\n");
  ParseResult broken = parse_with_file({"check", "broken.rb"});
  CHECK(broken.exit_code == 2);
  CHECK(broken.output.rfind("broken.rb:3: ", 0) == 0);
  CHECK(parse_with_file({"check"}).exit_code == 2);
  CHECK(parse({"check", "raptor.rb"}).exit_code == 2);  // no reader: cannot check
}

TEST_CASE("webhook specs: a URL with optional event types, channel filter and headers", "[config][webhooks]") {
  ParseResult r = parse({"--webhook", "http://127.0.0.1:9000/hooks/pusher",
                         "--webhook=https://[::1]/h;events=member_added,member_removed;prefix=presence-;suffix=.x;"
                         "header=Authorization: Bearer t0ken;header=X-Env:test",
                         "--webhook", "http://localhost"});
  REQUIRE(r.run);
  const auto& hooks = r.config.apps[0].webhooks;
  REQUIRE(hooks.size() == 3);
  CHECK(hooks[0].url == "http://127.0.0.1:9000/hooks/pusher");
  CHECK_FALSE(hooks[0].tls);
  CHECK(hooks[0].host == "127.0.0.1");
  CHECK(hooks[0].port == 9000);
  CHECK(hooks[0].path == "/hooks/pusher");
  CHECK(hooks[0].types == kDefaultWebhookTypes);
  CHECK_FALSE(hooks[0].wants(WebhookType::SubscriptionCount, "c"));
  CHECK(hooks[0].headers.empty());
  CHECK(hooks[1].tls);
  CHECK(hooks[1].host == "::1");
  CHECK(hooks[1].port == 443);
  CHECK(hooks[1].path == "/h");
  CHECK(hooks[1].types == (webhook_type_bit(WebhookType::MemberAdded) | webhook_type_bit(WebhookType::MemberRemoved)));
  CHECK(hooks[1].channel_prefix == "presence-");
  CHECK(hooks[1].channel_suffix == ".x");
  CHECK(hooks[1].wants(WebhookType::MemberAdded, "presence-a.x"));
  CHECK_FALSE(hooks[1].wants(WebhookType::MemberAdded, "presence-a.y"));
  CHECK_FALSE(hooks[1].wants(WebhookType::MemberAdded, "private-a.x"));
  CHECK_FALSE(hooks[1].wants(WebhookType::ChannelOccupied, "presence-a.x"));
  CHECK(hooks[1].headers == std::vector<std::pair<std::string, std::string>>{{"Authorization", "Bearer t0ken"},
                                                                               {"X-Env", "test"}});
  CHECK(hooks[2].host == "127.0.0.1");
  CHECK(hooks[2].port == 80);
  CHECK(hooks[2].path == "/");
  CHECK(hooks[1].origin() == "https://[::1]:443");
}

TEST_CASE("RAPTOR_WEBHOOKS holds |-separated specs, and flags add to them", "[config][webhooks]") {
  ParseResult r = parse({"--webhook", "http://127.0.0.3/"},
                        {{"RAPTOR_WEBHOOKS", "http://127.0.0.1:1/a;events=client_event|http://127.0.0.2:2/b"}});
  REQUIRE(r.run);
  const auto& hooks = r.config.apps[0].webhooks;
  REQUIRE(hooks.size() == 3);
  CHECK(hooks[0].port == 1);
  CHECK(hooks[0].types == webhook_type_bit(WebhookType::ClientEvent));
  CHECK(hooks[1].host == "127.0.0.2");
  CHECK(hooks[2].host == "127.0.0.3");
  CHECK(parse({}).config.apps[0].webhooks.empty());
}

TEST_CASE("webhook URLs with host names keep the name (looked up before each POST)", "[config][webhooks]") {
  ParseResult r = parse({"--webhook", "https://app.example.com/pusher", "--webhook", "https://localhost:8443/h",
                         "--webhook", "http://hooks.internal.:81/"});
  REQUIRE(r.run);
  const auto& hooks = r.config.apps[0].webhooks;
  REQUIRE(hooks.size() == 3);
  CHECK(hooks[0].host == "app.example.com");
  CHECK(hooks[0].port == 443);
  CHECK(hooks[1].host == "localhost");  // https: the name its certificate is checked against
  CHECK(hooks[2].host == "hooks.internal.");
  CHECK(hooks[2].origin() == "http://hooks.internal.:81");
}

TEST_CASE("bad webhook specs exit 2 with the reason and without echoing the spec", "[config][webhooks]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"ftp://127.0.0.1/", "http:// or https://"},
      {"127.0.0.1:9000", "http:// or https://"},
      {"http://hooks..example.com/p", "neither an IP address"},
      {"http://hooks_$.example.com/p", "neither an IP address"},
      {"http:///p", "no host"},
      {"http://127.0.0.1:0/", "port"},
      {"http://127.0.0.1:70000/", "port"},
      {"http://127.0.0.1:/", "port"},
      {"http://user:pw-secret@127.0.0.1/", "credentials"},
      {"http://127.0.0.1/a b", "spaces"},
      {"http://[::1/", "IPv6"},
      {"http://127.0.0.1/;events=channel_occupied,nope", "unknown event type 'nope'"},
      {"http://127.0.0.1/;events=", "unknown event type ''"},
      {"http://127.0.0.1/;header=NoColon-secret", "Name:Value"},
      {"http://127.0.0.1/;header=X-Pusher-Signature:forged-secret", "set by Raptor"},
      {"http://127.0.0.1/;header=content-type:text/plain-secret", "set by Raptor"},
      {"http://127.0.0.1/;header=Bad Name:v-secret", "letters, digits"},
      {"http://127.0.0.1/;Authorization:secret", "part 1 after the URL"},
  };
  for (const auto& [spec, reason] : cases) {
    INFO(spec);
    ParseResult r = parse({"--webhook", spec});
    require_error(r);
    CHECK(r.output.find(reason) != std::string::npos);
    CHECK(r.output.find("(not shown)") != std::string::npos);
    CHECK(r.output.find("secret") == std::string::npos);
  }
  ParseResult r = parse({}, {{"RAPTOR_WEBHOOKS", "http://127.0.0.1/|http://name..test/;header=A:secret"}});
  require_error(r);
  CHECK(r.output.find("RAPTOR_WEBHOOKS") != std::string::npos);
  CHECK(r.output.find("secret") == std::string::npos);
  // A header value with a line break would smuggle a header in.
  require_error(parse({"--webhook", std::string("http://127.0.0.1/;header=X-A:a\r\nX-B: b")}));
}

TEST_CASE("webhook timing and bounds: defaults, flags and environment", "[config][webhooks]") {
  const WebhookSettings d = parse({}).config.webhooks;
  CHECK(d.batch_ms == 50);
  CHECK(d.max_batch_events == 100);
  CHECK(d.departure_delay_ms == 3000);
  CHECK(d.timeout_ms == 4000);
  CHECK(d.retry_base_ms == 1000);
  CHECK(d.retry_max_ms == 60000);
  CHECK(d.retry_for_ms == 300000);  // Pusher's five minutes
  CHECK(d.queue_limit == 10000);

  ParseResult r = parse({"--webhook-batch-ms", "0", "--webhook-timeout-ms=500", "--webhook-retry-base-ms", "20",
                         "--webhook-retry-max-ms", "100", "--webhook-retry-for", "5", "--webhook-queue-limit", "7"},
                        {{"RAPTOR_WEBHOOK_BATCH_MS", "80"}, {"RAPTOR_WEBHOOK_QUEUE_LIMIT", "9"}});
  REQUIRE(r.run);
  const WebhookSettings& s = r.config.webhooks;
  CHECK(s.batch_ms == 0);
  CHECK(s.timeout_ms == 500);
  CHECK(s.retry_base_ms == 20);
  CHECK(s.retry_max_ms == 100);
  CHECK(s.retry_for_ms == 5000);
  CHECK(s.queue_limit == 7);
  CHECK(parse({}, {{"RAPTOR_WEBHOOK_RETRY_FOR", "600"}}).config.webhooks.retry_for_ms == 600000);

  for (const std::vector<std::string>& bad : std::vector<std::vector<std::string>>{
           {"--webhook-batch-ms", "-1"}, {"--webhook-batch-ms", "10001"}, {"--webhook-timeout-ms", "99"},
           {"--webhook-retry-base-ms", "9"}, {"--webhook-retry-max-ms", "0"}, {"--webhook-retry-for", "0"},
           {"--webhook-retry-for", "86401"}, {"--webhook-queue-limit", "0"}, {"--webhook-queue-limit", "many"}}) {
    INFO(bad[0] << " " << bad[1]);
    require_error(parse(bad));
  }
  std::string u = usage();
  for (const char* word : {"--webhook ", "RAPTOR_WEBHOOKS", "--webhook-batch-ms", "--webhook-timeout-ms",
                           "--webhook-retry-base-ms", "--webhook-retry-max-ms", "--webhook-retry-for",
                           "--webhook-queue-limit", "RAPTOR_WEBHOOK_RETRY_FOR"}) {
    INFO(word);
    CHECK(u.find(word) != std::string::npos);
  }
}

// ------------------------------------------------------------------ the cluster

namespace {

RedisAddress parsed(const std::string& url) {
  RedisAddress a;
  auto error = parse_redis_url(url, a);
  INFO(url << ": " << error.value_or(""));
  REQUIRE_FALSE(error);
  return a;
}

std::string refusal(const std::string& url) {
  RedisAddress a;
  auto error = parse_redis_url(url, a);
  INFO(url);
  REQUIRE(error);
  return *error;
}

}  // namespace

TEST_CASE("redis:// URLs: host, port, database and credentials", "[cluster][config]") {
  RedisAddress a = parsed("redis://127.0.0.1");
  CHECK(a.host == "127.0.0.1");
  CHECK(a.port == 6379);
  CHECK(a.db == 0);
  CHECK(a.password.empty());

  a = parsed("redis://10.0.0.5:7000/3");
  CHECK(a.host == "10.0.0.5");
  CHECK(a.port == 7000);
  CHECK(a.db == 3);

  CHECK(parsed("redis://localhost:6380/").host == "127.0.0.1");
  a = parsed("redis://[::1]:6390");
  CHECK(a.host == "::1");
  CHECK(a.port == 6390);

  a = parsed("redis://:s%40cret@127.0.0.1:6379");
  CHECK(a.user.empty());
  CHECK(a.password == "s@cret");
  a = parsed("redis://raptor:pw@127.0.0.1");
  CHECK(a.user == "raptor");
  CHECK(a.password == "pw");
  CHECK(parsed("redis://justpassword@127.0.0.1").password == "justpassword");
}

TEST_CASE("redis:// URLs with host names, and rediss:// with its TLS options", "[cluster][config]") {
  RedisAddress a = parsed("redis://redis.internal:7000");
  CHECK(a.host == "redis.internal");
  CHECK_FALSE(a.tls);
  a = parsed("rediss://:pw@cache.example.com:6380/2");
  CHECK(a.tls);
  CHECK(a.host == "cache.example.com");
  CHECK(a.port == 6380);
  CHECK(a.db == 2);
  CHECK(a.password == "pw");
  CHECK(a.verify);
  CHECK(a.ca_file.empty());
  a = parsed("rediss://localhost?ca=/etc/raptor/redis%20ca.pem");
  CHECK(a.host == "localhost");  // kept as the name the certificate is checked against
  CHECK(a.ca_file == "/etc/raptor/redis ca.pem");
  a = parsed("rediss://[::1]:6390?verify=none&ca=/x.pem");
  CHECK(a.host == "::1");
  CHECK_FALSE(a.verify);
  CHECK(a.where() == "[::1]:6390");
}

TEST_CASE("bad redis:// URLs are refused with the reason", "[cluster][config]") {
  CHECK(refusal("http://127.0.0.1:6379").find("redis://") != std::string::npos);
  CHECK(refusal("redis://").find("no host") != std::string::npos);
  CHECK(refusal("redis://redis..internal:6379").find("neither an IP address") != std::string::npos);
  CHECK(refusal("redis://127.0.0.1?ca=/x.pem").find("rediss:// only") != std::string::npos);
  CHECK(refusal("rediss://127.0.0.1?verify=maybe").find("verify=") != std::string::npos);
  CHECK(refusal("rediss://127.0.0.1?ca=").find("ca=") != std::string::npos);
  CHECK(refusal("rediss://127.0.0.1?cert=/x.pem").find("unknown option 'cert'") != std::string::npos);
  CHECK(refusal("redis://127.0.0.1:0").find("port") != std::string::npos);
  CHECK(refusal("redis://127.0.0.1:65536").find("port") != std::string::npos);
  CHECK(refusal("redis://127.0.0.1:").find("port") != std::string::npos);
  CHECK(refusal("redis://127.0.0.1:x").find("port") != std::string::npos);
  CHECK(refusal("redis://127.0.0.1/db1").find("database") != std::string::npos);
  CHECK(refusal("redis://[::1").find("]") != std::string::npos);
  CHECK(refusal("redis://:%zz@127.0.0.1").find("escape") != std::string::npos);
  CHECK(refusal("redis://user:@127.0.0.1").find("empty password") != std::string::npos);
}

TEST_CASE("node ids and prefixes: what is accepted", "[cluster][config]") {
  CHECK_FALSE(node_id_error("web-1.eu_west"));
  CHECK(node_id_error(""));
  CHECK(node_id_error("has space"));
  CHECK(node_id_error("a:b"));
  CHECK(node_id_error(std::string(65, 'n')));
  CHECK_FALSE(redis_prefix_error("raptor:"));
  CHECK_FALSE(redis_prefix_error("{staging}:"));
  CHECK(redis_prefix_error(""));
  CHECK(redis_prefix_error("two words"));
  CHECK(redis_prefix_error(std::string(65, 'p')));
  std::string generated = generate_node_id();
  CHECK_FALSE(node_id_error(generated));
  CHECK(generated != generate_node_id());
}

TEST_CASE("without --redis there is no cluster", "[cluster][config]") {
  ParseResult r = parse({});
  REQUIRE(r.run);
  CHECK_FALSE(r.config.cluster.redis);
  CHECK(r.config.cluster.node_id.empty());
}

TEST_CASE("cluster flags --redis, --redis-prefix, --node-id and --node-timeout, or their environment variables",
          "[cluster][config]") {
  ParseResult r = parse({"--redis", "redis://127.0.0.1:7001/2", "--redis-prefix", "staging:", "--node-id", "n1"});
  REQUIRE(r.run);
  REQUIRE(r.config.cluster.redis);
  CHECK(r.config.cluster.redis->port == 7001);
  CHECK(r.config.cluster.redis->db == 2);
  CHECK(r.config.cluster.prefix == "staging:");
  CHECK(r.config.cluster.node_id == "n1");

  r = parse({}, {{"RAPTOR_REDIS_URL", "redis://127.0.0.1"}, {"RAPTOR_REDIS_PREFIX", "x:"}, {"RAPTOR_NODE_ID", "n2"}});
  REQUIRE(r.run);
  REQUIRE(r.config.cluster.redis);
  CHECK(r.config.cluster.prefix == "x:");
  CHECK(r.config.cluster.node_id == "n2");

  r = parse({"--redis", "redis://127.0.0.1"});
  REQUIRE(r.run);
  CHECK(r.config.cluster.prefix == "raptor:");
  CHECK_FALSE(node_id_error(r.config.cluster.node_id));  // generated

  CHECK(r.config.cluster.node_timeout_s == 5);  // clean-up of a dead node well within 10 s
  r = parse({"--redis", "redis://127.0.0.1", "--node-timeout", "2"});
  REQUIRE(r.run);
  CHECK(r.config.cluster.node_timeout_s == 2);
  r = parse({"--redis", "redis://127.0.0.1"}, {{"RAPTOR_NODE_TIMEOUT", "3600"}});
  REQUIRE(r.run);
  CHECK(r.config.cluster.node_timeout_s == 3600);

  CHECK(r.config.cluster.startup_wait_s == 10);
  r = parse({"--redis", "redis://127.0.0.1", "--startup-wait", "0"});
  REQUIRE(r.run);
  CHECK(r.config.cluster.startup_wait_s == 0);
  r = parse({"--redis", "redis://127.0.0.1"}, {{"RAPTOR_STARTUP_WAIT", "120"}});
  REQUIRE(r.run);
  CHECK(r.config.cluster.startup_wait_s == 120);

  r = parse({"--redis", "redis://127.0.0.1:7002"}, {{"RAPTOR_REDIS_URL", "redis://127.0.0.1:7001"}});
  REQUIRE(r.run);
  CHECK(r.config.cluster.redis->port == 7002);  // the flag wins
}

TEST_CASE("bad cluster settings exit 2 with the reason, and never echo the URL", "[cluster][config]") {
  struct Case {
    std::vector<std::string> args;
    std::map<std::string, std::string> env;
    const char* expected;
  };
  const Case cases[] = {
      {{"--redis", "http://:hunter2@127.0.0.1"}, {}, "--redis: expected redis://"},
      {{"--redis", "rediss://:hunter2@127.0.0.1?verify=maybe"}, {}, "verify= is full (the default) or none"},
      {{}, {{"RAPTOR_REDIS_URL", "redis://:hunter2@cache..local"}}, "RAPTOR_REDIS_URL: the host is neither an IP address"},
      {{"--redis-prefix", "has space"}, {}, "--redis-prefix"},
      {{"--node-id", "a/b"}, {}, "'a/b' for --node-id: a node id is made of"},
      {{}, {{"RAPTOR_NODE_ID", ""}}, "RAPTOR_NODE_ID"},
      {{"--node-timeout", "1"},
       {},
       "'1' for --node-timeout: the node timeout is a whole number of seconds from 2 to 3600"},
      {{"--node-timeout", "3601"}, {}, "--node-timeout: the node timeout"},
      {{"--node-timeout", "5s"}, {}, "--node-timeout: the node timeout"},
      {{"--node-timeout", "-5"}, {}, "--node-timeout: the node timeout"},
      {{}, {{"RAPTOR_NODE_TIMEOUT", ""}}, "RAPTOR_NODE_TIMEOUT: the node timeout"},
      {{"--startup-wait", "3601"},
       {},
       "'3601' for --startup-wait: the start-up wait is a whole number of seconds from 0 to 3600"},
      {{"--startup-wait", "10s"}, {}, "--startup-wait: the start-up wait"},
      {{}, {{"RAPTOR_STARTUP_WAIT", "-1"}}, "RAPTOR_STARTUP_WAIT: the start-up wait"},
  };
  for (const Case& c : cases) {
    ParseResult r = parse(c.args, c.env);
    INFO(r.output);
    CHECK_FALSE(r.run);
    CHECK(r.exit_code == 2);
    CHECK(r.output.find(c.expected) != std::string::npos);
    CHECK(r.output.find("hunter2") == std::string::npos);
  }
}


// ------------------------------------------------------------------ safe defaults (docs/security.md)

TEST_CASE("the development app is served on loopback only", "[config][safe-defaults]") {
  for (const char* host : {"127.0.0.1", "127.1.2.3", "localhost", "::1"}) {
    INFO(host);
    ParseResult r = parse({"--host", host});
    REQUIRE(r.run);
    CHECK(r.config.default_credentials);
  }
  for (const char* host : {"0.0.0.0", "::", "192.168.1.10", "example.com", "128.0.0.1"}) {
    INFO(host);
    ParseResult r = parse({"--host", host});
    require_error(r);
    CHECK(r.output.find("loopback only") != std::string::npos);
    CHECK(r.output.find("--app-secret-file") != std::string::npos);
    CHECK(r.output.find('\n') == r.output.size() - 1);  // one line
  }
  // Real credentials may be served anywhere.
  CHECK(parse({"--host", "0.0.0.0", "--app-id", "i", "--app-key", "k", "--app-secret", "a-real-secret"}).run);
  CHECK(parse({"--host", "0.0.0.0", "--app", "i:k:a-real-secret"}).run);
}

TEST_CASE("placeholder secrets are refused off loopback, by the flags and by the file", "[config][safe-defaults]") {
  for (const char* secret : {"app-secret", "change-me", "change-me-too", "my-secret"}) {
    INFO(secret);
    require_error(parse({"--host", "0.0.0.0", "--app-id", "i", "--app-key", "k", "--app-secret", secret}));
    CHECK(parse({"--app-id", "i", "--app-key", "k", "--app-secret", secret}).run);  // loopback: development
  }
  ParseResult filed = parse_with_file({"--config", "placeholder.rb"});
  require_error(filed);
  CHECK(filed.output.find("placeholder.rb: app shop has the placeholder secret 'change-me'") != std::string::npos);
  CHECK(parse_with_file({"--config", "local-placeholder.rb"}).run);
  ParseResult check = parse_with_file({"check", "placeholder.rb"});
  CHECK(check.exit_code == 2);
  CHECK(check.output.rfind("placeholder.rb: app shop has the placeholder secret", 0) == 0);
  CHECK(parse_with_file({"check", "local-placeholder.rb"}).exit_code == 0);
}

TEST_CASE("a config file without apps is refused unless the app comes from flags or environment",
          "[config][safe-defaults]") {
  ParseResult start = parse_with_file({"--config", "no-apps.rb"});
  CHECK_FALSE(start.run);
  CHECK(start.exit_code == 2);
  CHECK(start.output.rfind("no-apps.rb: defines no app", 0) == 0);
  const std::map<std::string, std::string> installed = {
      {"RAPTOR_APP_ID", "i"}, {"RAPTOR_APP_KEY", "k"}, {"RAPTOR_APP_SECRET", "a-real-secret"}};
  CHECK(parse_with_file({"--config", "no-apps.rb"}, installed).run);
  CHECK(parse_with_file({"--config", "no-apps.rb", "--app", "i:k:a-real-secret"}).run);

  ParseResult check = parse_with_file({"check", "no-apps.rb"});
  CHECK(check.exit_code == 2);
  CHECK(check.output.rfind("no-apps.rb: defines no app", 0) == 0);
  CHECK(check.output.find("--no-env") != std::string::npos);
  ParseResult with_env = parse_with_file({"check", "no-apps.rb"}, installed);
  CHECK(with_env.exit_code == 0);
  CHECK(with_env.output.find("the default app comes from RAPTOR_APP_ID") != std::string::npos);
  CHECK(parse_with_file({"check", "--no-env", "no-apps.rb"}).exit_code == 0);
  CHECK(parse_with_file({"check", "--no-env"}).exit_code == 2);
}

TEST_CASE("flag errors name the expected form and range", "[config]") {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--app", "foo"}, "expected ID:KEY:SECRET"},
      {{"--port", "0"}, "expected a whole number from 1 to 65535"},
      {{"--workers", "100"}, "expected a whole number from 1 to 64"},
      {{"--event-loop", "kqueue"}, "expected epoll or poll"},
      {{"--compression", "gzip"}, "expected on or off"},
      {{"--log-level", "loud"}, "expected error, warn, info or debug"},
      {{"--host="}, "expected a non-empty value"},
  };
  for (const auto& [args, expected] : cases) {
    INFO(args[0]);
    ParseResult r = parse(args);
    require_error(r);
    CHECK(r.output.find(expected) != std::string::npos);
  }
  ParseResult env = parse({}, {{"RAPTOR_APPS", "broken"}});
  CHECK(env.output.find("expected ID:KEY:SECRET") != std::string::npos);
  CHECK(env.output.find("broken") == std::string::npos);  // may be a secret: not echoed
}

TEST_CASE("the log level from --log-level and RAPTOR_LOG_LEVEL", "[config]") {
  CHECK(parse({}).config.log_level == log::Level::kInfo);
  CHECK(parse({"--log-level", "warn"}).config.log_level == log::Level::kWarn);
  CHECK(parse({}, {{"RAPTOR_LOG_LEVEL", "debug"}}).config.log_level == log::Level::kDebug);
  CHECK(parse({"--log-level=error"}, {{"RAPTOR_LOG_LEVEL", "debug"}}).config.log_level == log::Level::kError);
}

TEST_CASE("RAPTOR_TRUSTED_PROXIES lists proxies, --trusted-proxy adds to them, --forwarded-header picks the header",
          "[config]") {
  ParseResult r = parse({"--trusted-proxy", "fd00::/8"}, {{"RAPTOR_TRUSTED_PROXIES", "127.0.0.1/32, 10.0.0.0/8"}});
  REQUIRE(r.run);
  CHECK(r.config.trusted_proxies.size() == 3);
  CHECK(in_ranges("10.9.8.7", r.config.trusted_proxies));
  CHECK(in_ranges("fd00::1", r.config.trusted_proxies));
  CHECK_FALSE(in_ranges("192.168.0.1", r.config.trusted_proxies));
  CHECK(r.config.forwarded_header == ForwardedHeader::XForwardedFor);
  CHECK(parse({"--forwarded-header", "forwarded"}).config.forwarded_header == ForwardedHeader::Forwarded);
  CHECK(parse({}, {{"RAPTOR_FORWARDED_HEADER", "Forwarded"}}).config.forwarded_header == ForwardedHeader::Forwarded);

  ParseResult bad = parse({}, {{"RAPTOR_TRUSTED_PROXIES", "127.0.0.1,proxy.example"}});
  CHECK(bad.exit_code == 2);
  CHECK(bad.output.find("'proxy.example' for RAPTOR_TRUSTED_PROXIES") != std::string::npos);
  ParseResult header = parse({"--forwarded-header", "x-real-ip"});
  CHECK(header.exit_code == 2);
  CHECK(header.output.find("expected x-forwarded-for or forwarded") != std::string::npos);
}

TEST_CASE("TLS version floor and ciphers: defaults, flags and environment", "[config][tls]") {
  Config defaults = parse({}).config;
  CHECK(defaults.tls_min_version == TlsVersion::kTls12);
  CHECK(defaults.tls_ciphers == kDefaultTlsCiphers);
  CHECK_FALSE(tls_ciphers_problem(kDefaultTlsCiphers).has_value());
  ParseResult r = parse({"--tls-min-version", "1.3", "--tls-ciphers=ECDHE-RSA-AES256-GCM-SHA384:!aNULL"});
  REQUIRE(r.run);
  CHECK(r.config.tls_min_version == TlsVersion::kTls13);
  CHECK(r.config.tls_ciphers == "ECDHE-RSA-AES256-GCM-SHA384:!aNULL");
  ParseResult env = parse({}, {{"RAPTOR_TLS_MIN_VERSION", "TLSv1.3"}, {"RAPTOR_TLS_CIPHERS", "HIGH:!aNULL"}});
  REQUIRE(env.run);
  CHECK(env.config.tls_min_version == TlsVersion::kTls13);
  CHECK(env.config.tls_ciphers == "HIGH:!aNULL");
  CHECK(parse({"--tls-min-version", "1.2"}, {{"RAPTOR_TLS_MIN_VERSION", "1.3"}}).config.tls_min_version ==
        TlsVersion::kTls12);
  std::string u = usage();
  for (const char* word : {"--tls-min-version", "RAPTOR_TLS_MIN_VERSION", "--tls-ciphers", "RAPTOR_TLS_CIPHERS"}) {
    INFO(word);
    CHECK(u.find(word) != std::string::npos);
  }
}

TEST_CASE("a TLS version or cipher list OpenSSL would not serve exits 2 naming why", "[config][tls]") {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--tls-min-version", "1.1"}, "expected 1.2 or 1.3"},
      {{"--tls-min-version", "1.0"}, "expected 1.2 or 1.3"},
      {{"--tls-min-version", "tls1.3"}, "expected 1.2 or 1.3"},
      {{"--tls-ciphers", "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA257"},
       "'ECDHE-RSA-AES128-GCM-SHA257' is no TLS 1.2 cipher"},
      {{"--tls-ciphers", "TLS_AES_128_GCM_SHA256"}, "'TLS_AES_128_GCM_SHA256' is no TLS 1.2 cipher"},
      {{"--tls-ciphers", "ECDHE-RSA-AES128-GCM-SHA256,AES256-SHA"}, "separated by ':'"},
      {{"--tls-ciphers", "ECDHE-RSA-AES128-GCM-SHA256::AES256-SHA"}, "empty name"},
      {{"--tls-ciphers", "ECDHE-RSA-AES128-GCM-SHA256:!ECDHE"}, "leaves no TLS 1.2 cipher"},
      {{"--tls-ciphers="}, "empty cipher list"},
  };
  for (const auto& [args, reason] : cases) {
    INFO(args[0] << " " << (args.size() > 1 ? args[1] : ""));
    ParseResult r = parse(args);
    require_error(r);
    CHECK(r.output.find(reason) != std::string::npos);
  }
  ParseResult env = parse({}, {{"RAPTOR_TLS_CIPHERS", "RC5-NOPE"}});
  require_error(env);
  CHECK(env.output.find("for RAPTOR_TLS_CIPHERS: 'RC5-NOPE' is no TLS 1.2 cipher") != std::string::npos);
}

TEST_CASE("webhook specs take ca= and verify_tls= for https receivers only", "[config][webhooks][tls]") {
  TempFile ca("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n");
  ParseResult r = parse({"--webhook", "https://127.0.0.1:9443/h;verify_tls=off", "--webhook", "https://127.0.0.1/h"});
  REQUIRE(r.run);
  const auto& hooks = r.config.apps[0].webhooks;
  CHECK_FALSE(hooks[0].verify_tls);
  CHECK(hooks[0].ca_file.empty());
  CHECK(hooks[1].verify_tls);
  CHECK(hooks[0] != hooks[1]);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"http://127.0.0.1/;verify_tls=off", "for https:// receivers"},
      {"http://127.0.0.1/;ca=/etc/ssl/certs/ca-certificates.crt", "for https:// receivers"},
      {"https://127.0.0.1/;verify_tls=maybe", "verify_tls= takes on or off"},
      {"https://127.0.0.1/;ca=/etc/ssl/certs/ca-certificates.crt;verify_tls=off", "exclude each other"},
      {"https://127.0.0.1/;ca=/no/such/ca.pem", "cannot read the TLS CA file /no/such/ca.pem"},
      {"https://127.0.0.1/;ca=" + ca.path, "holds no PEM certificate"},
  };
  for (const auto& [spec, reason] : cases) {
    INFO(spec);
    ParseResult bad = parse({"--webhook", spec});
    require_error(bad);
    CHECK(bad.output.find(reason) != std::string::npos);
  }
}
