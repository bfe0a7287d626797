// cli: the client commands' command line and how it finds the server and the app (through a fake
// environment and configuration file), the signed requests the server verifies, their wire form,
// the human-readable answers and keygen's credentials.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/invocation.h"
#include "cli/signed_request.h"
#include "http/request_auth.h"
#include "support.h"

using namespace raptor;
using namespace raptor::cli;

namespace {

std::map<std::string, std::string> g_env;

const char* fake_env(const char* name) {
  auto it = g_env.find(name);
  return it == g_env.end() ? nullptr : it->second.c_str();
}

// Stands in for script::read_config_file: "server.rb" listens on 0.0.0.0:7000 with two apps.
bool fake_file(const std::string& path, Config& c, std::string& message) {
  if (path != "server.rb") return message = path + ":1: no such file", false;
  c.port = 7000;
  c.host = "0.0.0.0";
  c.apps = {App{"first", "first-key", "first-secret"}, App{"second", "second-key", "second-secret"}};
  c.default_credentials = false;
  return true;
}

const Syntax kPublish{{"CHANNEL", "EVENT", "DATA"}, {}};
const Syntax kChannels{{}, {"--prefix"}};

ParsedInvocation parse(const Syntax& syntax, std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
  g_env = std::move(env);
  args.insert(args.begin(), {"raptor", "cmd"});
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  return parse_invocation(int(argv.size()), argv.data(), syntax, fake_env, fake_file);
}

}  // namespace

TEST_CASE("without configuration the commands reach the development app on 127.0.0.1:6001", "[cli]") {
  ParsedInvocation p = parse(kPublish, {"news", "update", "hi"});
  REQUIRE(p.invocation);
  CHECK(p.invocation->target.base_url == "http://127.0.0.1:6001");
  CHECK(p.invocation->target.app.id == "app-id");
  CHECK(p.invocation->target.app.secret == "app-secret");
  CHECK(p.invocation->args == std::vector<std::string>{"news", "update", "hi"});
  CHECK_FALSE(p.invocation->json);
}

TEST_CASE("the configuration file gives the address and the first app, --app-id another one", "[cli]") {
  ParsedInvocation p = parse(kChannels, {"--config", "server.rb", "--json"});
  REQUIRE(p.invocation);
  CHECK(p.invocation->target.base_url == "http://127.0.0.1:7000");  // 0.0.0.0 is reached on loopback
  CHECK(p.invocation->target.app.id == "first");
  CHECK(p.invocation->json);
  p = parse(kChannels, {"--app-id", "second"}, {{"RAPTOR_CONFIG", "server.rb"}});
  REQUIRE(p.invocation);
  CHECK(p.invocation->target.app.key == "second-key");
}

TEST_CASE("the server's variables, RAPTOR_URL and --url, --app and --timeout", "[cli]") {
  ParsedInvocation p = parse(kChannels, {"--prefix", "presence-"},
                             {{"RAPTOR_PORT", "7100"}, {"RAPTOR_APP_ID", "env-id"}, {"RAPTOR_APP_KEY", "env-key"},
                              {"RAPTOR_APP_SECRET", "env-secret"}, {"RAPTOR_TLS_CERT", "c.pem"}, {"RAPTOR_TLS_KEY", "k.pem"}});
  REQUIRE(p.invocation);
  CHECK(p.invocation->target.base_url == "https://127.0.0.1:7100");
  CHECK(p.invocation->target.app.secret == "env-secret");
  CHECK(p.invocation->values.at("--prefix") == "presence-");
  p = parse(kChannels, {"--app", "a:b:c:d", "--timeout=3"}, {{"RAPTOR_URL", "https://rt.example.com/"}});
  REQUIRE(p.invocation);
  CHECK(p.invocation->target.base_url == "https://rt.example.com");
  CHECK(p.invocation->target.app.secret == "c:d");
  CHECK(p.invocation->target.timeout_s == 3);
  CHECK(p.invocation->target.ca_file.empty());
  p = parse(kChannels, {"--url", "http://[::1]:6001"}, {{"RAPTOR_URL", "https://ignored"}});
  REQUIRE(p.invocation);
  CHECK(p.invocation->target.base_url == "http://[::1]:6001");
  p = parse(kChannels, {"--cacert", "ca.pem"}, {{"RAPTOR_CA_FILE", "ignored.pem"}});
  REQUIRE(p.invocation);
  CHECK(p.invocation->target.ca_file == "ca.pem");
  p = parse(kChannels, {}, {{"RAPTOR_CA_FILE", "env.pem"}});
  REQUIRE(p.invocation);
  CHECK(p.invocation->target.ca_file == "env.pem");
}

TEST_CASE("a DATA that starts with two dashes comes after --", "[cli]") {
  ParsedInvocation p = parse(kPublish, {"news", "update", "--", "--not-a-flag"});
  REQUIRE(p.invocation);
  CHECK(p.invocation->args.back() == "--not-a-flag");
}

TEST_CASE("usage errors name what is wrong", "[cli]") {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"news", "update"}, "missing arguments: expected CHANNEL EVENT DATA"},
      {{"news", "update", "hi", "more"}, "too many arguments"},
      {{"news", "update", "hi", "--frobnicate"}, "unknown option '--frobnicate'"},
      {{"news", "update", "hi", "--url"}, "--url needs a value"},
      {{"news", "update", "hi", "--json=yes"}, "--json takes no value"},
      {{"news", "update", "hi", "--timeout", "0"}, "--timeout takes 1 to 3600 seconds"},
      {{"news", "update", "hi", "--app", "only:two"}, "--app takes ID:KEY:SECRET"},
      {{"news", "update", "hi", "--app-id", "nobody"}, "no app 'nobody' in the configuration"},
      {{"news", "update", "hi", "--url", "ftp://x"}, "must start with http:// or https://"},
      {{"news", "update", "hi", "--config", "missing.rb"}, "missing.rb:1: no such file"},
  };
  for (const auto& [args, message] : cases) {
    ParsedInvocation p = parse(kPublish, args);
    INFO(p.error);
    CHECK_FALSE(p.invocation);
    CHECK(p.error.rfind("raptor cmd: ", 0) == 0);
    CHECK(p.error.find(message) != std::string::npos);
  }
}

TEST_CASE("a signed request is one the server accepts, and not once it is changed", "[cli]") {
  App app{"id", "key", "secret"};
  http::Request req = signed_request(app, "POST", "/apps/id/events", {{"info", "user_count"}}, R"({"a":1})", 1700000000);
  CHECK_FALSE(http::verify_request(app, req, 1700000000));
  CHECK(req.param("body_md5"));
  CHECK(http::verify_request(App{"id", "key", "other-secret"}, req, 1700000000));
  http::Request changed = req;
  changed.body = R"({"a":2})";
  CHECK(http::verify_request(app, changed, 1700000000));
  http::Request get = signed_request(app, "GET", "/apps/id/channels", {}, "", 1700000000);
  CHECK_FALSE(get.param("body_md5"));
  CHECK_FALSE(http::verify_request(app, get, 1700000000));
}

TEST_CASE("the request target is percent-encoded, the path keeps its slashes", "[cli]") {
  http::Request req{"GET", "/apps/a/channels/presence-x#y/users", {{"filter_by_prefix", "a b&c=d"}}, ""};
  CHECK(request_target(req) == "/apps/a/channels/presence-x%23y/users?filter_by_prefix=a%20b%26c%3Dd");
  CHECK(percent_encode("AZaz09-._~@") == "AZaz09-._~%40");
}

TEST_CASE("channels are given by name or by URL resource", "[cli]") {
  std::string name, why;
  CHECK(channel_name_of("private-a", name, why));
  CHECK(name == "private-a");
  CHECK(channel_name_of("/channels/private/galleries/123", name, why));
  CHECK(name == "private-galleries.123");
  CHECK_FALSE(channel_name_of("/channels/nosuchtype/x", name, why));
  CHECK(why.find("/channels/nosuchtype/x") != std::string::npos);
  CHECK_FALSE(channel_name_of("", name, why));
}

TEST_CASE("the human forms of the answers: sorted channel names, user ids, flattened health", "[cli]") {
  auto body = json::parse(R"({"channels":{"b":{},"a":{"user_count":2}}})");
  CHECK(channel_lines(body.get()) == "a\nb\n");
  body = json::parse(R"({"users":[{"id":"7"},{"id":"alice"}]})");
  CHECK(user_lines(body.get()) == "7\nalice\n");
  body = json::parse(R"({"status":"ok","webhooks":{"queued":3,"stream":{"state":"up"}}})");
  CHECK(health_lines(body.get()) == "status: ok\nwebhooks.queued: 3\nwebhooks.stream.state: up\n");
}

TEST_CASE("the human form of an app's statistics: figures, then the lists the answer has", "[cli]") {
  auto body = json::parse(R"({"app":"a1","connections":{"current":3,"peak":5},
    "messages":{"total":120,"last_minute":12,"last_hour":110,"per_second_last_minute":0.2},
    "channels":{"occupied":2,"tracked":4},
    "top_channels":[{"name":"prices","messages":{"total":100,"last_minute":10,"last_hour":90}}],
    "largest_presence_channels":[{"name":"presence-lobby","user_count":2}],
    "nodes":[{"node":"web-1","connections":2,"messages_total":70},{"node":"web-2","connections":1,"messages_total":50}]})");
  CHECK(stats_lines(body.get()) ==
        "app: a1\n"
        "connections: 3 (at most 5)\n"
        "messages: 120 in all, 12 in the last minute, 110 in the last hour\n"
        "channels: 2 occupied, 4 tracked\n"
        "busiest channels (messages in the last hour, in the last minute):\n"
        "  prices: 90, 10\n"
        "largest presence channels (users):\n"
        "  presence-lobby: 2\n"
        "nodes (connections, messages in all):\n"
        "  web-1: 2, 70\n"
        "  web-2: 1, 50\n");
  // A quiet node alone: no empty lists, and a figure the server left out is a "?".
  body = json::parse(R"({"app":"a1","connections":{"current":0},"messages":{"total":0,"last_minute":0,"last_hour":0},
    "channels":{"occupied":0,"tracked":0},"top_channels":[],"largest_presence_channels":[]})");
  CHECK(stats_lines(body.get()) ==
        "app: a1\nconnections: 0 (at most ?)\nmessages: 0 in all, 0 in the last minute, 0 in the last hour\n"
        "channels: 0 occupied, 0 tracked\n");
}

TEST_CASE("the human form of a channel's statistics says when it is not tracked", "[cli]") {
  auto body = json::parse(R"({"name":"presence-x","occupied":true,"subscription_count":3,"user_count":2,"tracked":true,
    "messages":{"total":7,"last_minute":1,"last_hour":7}})");
  CHECK(channel_stats_lines(body.get()) ==
        "channel: presence-x\noccupied: yes\nsubscriptions: 3\nusers: 2\n"
        "messages: 7 in all, 1 in the last minute, 7 in the last hour\n");
  body = json::parse(R"({"name":"quiet","occupied":false,"subscription_count":0,"tracked":false,
    "messages":{"total":0,"last_minute":0,"last_hour":0}})");
  CHECK(channel_stats_lines(body.get()) ==
        "channel: quiet\noccupied: no\nsubscriptions: 0\nmessages: not tracked (none published lately)\n");
}

TEST_CASE("keygen makes different credentials each time, in the forms the server reads", "[cli]") {
  std::set<std::string> secrets;
  for (int i = 0; i < 20; ++i) {
    App app = fresh_app();
    CHECK(app.id.size() == 12);
    CHECK(app.key.size() == 20);
    CHECK(app.secret.size() == 48);
    CHECK(app.secret.find_first_not_of("0123456789abcdef") == std::string::npos);
    secrets.insert(app.secret);
    std::string text = keygen_text(app);
    CHECK(text.find("RAPTOR_APP_SECRET=" + app.secret + "\n") != std::string::npos);
    App parsed;
    std::string spec = text.substr(text.rfind(' ') + 1);
    spec.pop_back();
    REQUIRE(parse_app(spec, parsed));
    CHECK(parsed.secret == app.secret);
  }
  CHECK(secrets.size() == 20);
}
