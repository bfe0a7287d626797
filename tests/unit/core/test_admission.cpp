// core/admission: which requests become connections, with Pusher's close codes, and the admit hook.
#include "core/admission.h"

#include "core/policy_hooks.h"
#include "protocol/errors.h"
#include "support.h"

using namespace raptor;
using namespace raptor::test;

namespace {

struct NoHooks : PassingPolicy {
  bool has(const App&, Hook) const override { return false; }
};

struct RefusingPolicy : PassingPolicy {
  int asked = 0;
  bool has(const App&, Hook hook) const override { return hook == Hook::Admit; }
  PolicyVerdict admit(const App&, const Handshake&) override {
    ++asked;
    PolicyVerdict v;
    v.kind = PolicyVerdict::Kind::Deny;
    v.reason = "no origin";
    return v;
  }
};

}  // namespace

TEST_CASE("admission finds served apps by key and id, never a retired one", "[admission]") {
  AppList apps{reference_app("3"), App{"4", "second-key", "second-secret"}};
  CHECK(app_by_key(apps, kRefKey) == &apps[0]);
  CHECK(app_by_id(apps, "4") == &apps[1]);
  CHECK(app_by_key(apps, "nope") == nullptr);
  apps[1].retired = true;
  CHECK(app_by_id(apps, "4") == nullptr);
  CHECK(admit(apps, nullptr, "/app/second-key", std::string_view("7"), nullptr).close_code ==
        code(CloseCode::UnknownApp));
}

TEST_CASE("admission refuses a bad path, version or key with its close code", "[admission]") {
  AppList apps{reference_app()};
  auto close_code = [&](std::string_view path, std::optional<std::string_view> protocol) {
    Admission a = admit(apps, nullptr, path, protocol, nullptr);
    CHECK((a.app == nullptr) == (a.close_code != 0));
    return a.close_code;
  };
  std::string path = std::string("/app/") + kRefKey;
  CHECK(close_code(path, std::string_view("7")) == 0);
  CHECK(close_code("/apps/x", std::string_view("7")) == code(CloseCode::PathNotFound));
  CHECK(close_code(path + "/x", std::string_view("7")) == code(CloseCode::PathNotFound));
  CHECK(close_code(path, std::nullopt) == code(CloseCode::NoVersion));
  CHECK(close_code(path, std::string_view("7a")) == code(CloseCode::InvalidVersion));
  CHECK(close_code(path, std::string_view("8")) == code(CloseCode::UnsupportedVersion));
  CHECK(close_code("/app/unknown", std::string_view("7")) == code(CloseCode::UnknownApp));
}

TEST_CASE("admission asks the admit hook only with a handshake, and a denial closes with 4009", "[admission]") {
  AppList apps{reference_app()};
  RefusingPolicy policy;
  std::string path = std::string("/app/") + kRefKey;
  CHECK(admit(apps, &policy, path, std::string_view("7"), nullptr).app == &apps[0]);
  CHECK(policy.asked == 0);
  Handshake handshake;
  Admission a = admit(apps, &policy, path, std::string_view("7"), &handshake);
  CHECK(policy.asked == 1);
  CHECK(a.app == nullptr);
  CHECK(a.close_code == code(CloseCode::Unauthorized));
  CHECK(a.reason == "Connection refused by policy: no origin");
}

TEST_CASE("admission keeps handshakes only for a policy whose hooks read them", "[admission]") {
  AppList apps{reference_app()};
  NoHooks none;
  RefusingPolicy admit_hook;
  CHECK_FALSE(wants_handshake(apps, nullptr));
  CHECK_FALSE(wants_handshake(apps, &none));
  CHECK(wants_handshake(apps, &admit_hook));
}

TEST_CASE("admission refuses an origin off the app's allow-list with 4009", "[admission][limits]") {
  AppList apps{reference_app()};
  apps[0].allowed_origins = {"https://app.example.com", "https://*.example.org", "http://localhost:3000"};
  std::string path = std::string("/app/") + kRefKey;
  auto close_code = [&](std::optional<std::string_view> origin) {
    return admit(apps, nullptr, path, std::string_view("7"), nullptr, origin).close_code;
  };
  CHECK(close_code(std::string_view("https://app.example.com")) == 0);
  CHECK(close_code(std::string_view("HTTPS://App.Example.com")) == 0);
  CHECK(close_code(std::string_view("http://localhost:3000")) == 0);
  CHECK(close_code(std::string_view("https://a.example.org")) == 0);
  CHECK(close_code(std::string_view("https://a.b.example.org")) == 0);
  CHECK(close_code(std::nullopt) == 0);  // not a browser page: the list cannot tell
  CHECK(close_code(std::string_view("https://example.org")) == code(CloseCode::Unauthorized));
  CHECK(close_code(std::string_view("http://app.example.com")) == code(CloseCode::Unauthorized));
  CHECK(close_code(std::string_view("https://evil-example.org")) == code(CloseCode::Unauthorized));
  CHECK(close_code(std::string_view("https://app.example.com.evil.net")) == code(CloseCode::Unauthorized));
  CHECK(close_code(std::string_view("http://localhost:3001")) == code(CloseCode::Unauthorized));
  CHECK(close_code(std::string_view("null")) == code(CloseCode::Unauthorized));
  Admission a = admit(apps, nullptr, path, std::string_view("7"), nullptr, std::string_view("https://evil.net"));
  CHECK(a.reason == "Origin not allowed: https://evil.net");
  apps[0].allowed_origins.clear();
  CHECK(close_code(std::string_view("https://evil.net")) == 0);
}

TEST_CASE("admission refuses with 4004 when the app's connections on the node reach its quota", "[admission][limits]") {
  AppList apps{reference_app(), App{"4", "second-key", "second-secret"}};
  std::string path = std::string("/app/") + kRefKey;
  auto close_code = [&](size_t default_max) {
    return admit(apps, nullptr, path, std::string_view("7"), nullptr, std::nullopt, default_max).close_code;
  };
  apps[0].connections.opened();
  apps[0].connections.opened();
  CHECK(close_code(0) == 0);  // no limit by default
  CHECK(close_code(3) == 0);
  CHECK(close_code(2) == code(CloseCode::OverQuota));
  apps[0].max_connections = 3;  // the app's own setting wins over the default
  CHECK(close_code(2) == 0);
  apps[0].connections.opened();
  Admission a = admit(apps, nullptr, path, std::string_view("7"), nullptr, std::nullopt, 0);
  CHECK(a.close_code == code(CloseCode::OverQuota));
  CHECK(a.reason == "Application is over connection quota");
  // Counted per app: the other app is not full.
  CHECK(admit(apps, nullptr, "/app/second-key", std::string_view("7"), nullptr, std::nullopt, 2).app == &apps[1]);
  apps[0].connections.closed();
  CHECK(close_code(0) == 0);
}

TEST_CASE("an app's open connections survive new settings from a reload", "[admission][limits]") {
  App running = reference_app();
  running.connections.opened();
  App next = running;  // settings read again: a copy counts nothing
  CHECK(next.connections.open() == 0);
  next.max_connections = 5;
  running = next;
  CHECK(running.connections.open() == 1);
  CHECK(running.max_connections == 5);
}
