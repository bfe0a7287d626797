// http/query_form: the one form of an API query that signs unambiguously (issue 21).
#include "http/query_form.h"

#include "support.h"

using namespace raptor;

namespace {

http::Request with_query(std::vector<std::pair<std::string, std::string>> query) {
  http::Request r;
  r.method = "GET";
  r.path = "/apps/3/channels";
  r.query = std::move(query);
  r.query.emplace_back("auth_key", "k");
  r.query.emplace_back("auth_timestamp", "1353088179");
  r.query.emplace_back("auth_version", "1.0");
  r.query.emplace_back("auth_signature", "0f");
  return r;
}

// The parameter the form refuses, or "" when it takes the query.
std::string refused(const http::Request& r, const std::vector<std::string_view>& endpoint_params) {
  auto fault = http::check_query_form(r, endpoint_params);
  if (fault) CHECK(fault->message.find("\"" + fault->parameter + "\"") != std::string::npos);
  return fault ? fault->parameter : "";
}

}  // namespace

TEST_CASE("the signature's parameters and the endpoint's own are taken", "[query_form]") {
  CHECK(refused(with_query({}), {}).empty());
  CHECK(refused(with_query({{"body_md5", "d41d8cd98f00b204e9800998ecf8427e"}}), {}).empty());
  CHECK(refused(with_query({{"filter_by_prefix", "presence-"}, {"info", "user_count,subscription_count"}}),
                {"filter_by_prefix", "info"})
            .empty());
  CHECK(refused(with_query({{"name", "my event"}, {"socket_id", "123.456"}}), {"name", "socket_id"}).empty());
}

TEST_CASE("a parameter the endpoint does not read is refused, whatever its value", "[query_form]") {
  CHECK(refused(with_query({{"z", ""}}), {}) == "z");
  CHECK(refused(with_query({{"info", "user_count"}}), {}) == "info");
  CHECK(refused(with_query({{"filter_by_prefix", "x"}}), {"info"}) == "filter_by_prefix");
}

TEST_CASE("names in another case are unknown: they would sign like the lower-case one", "[query_form]") {
  CHECK(refused(with_query({{"Socket_id", "1.2"}}), {"socket_id"}) == "Socket_id");
  CHECK(refused(with_query({{"AUTH_VERSION", "1.0"}}), {}) == "AUTH_VERSION");
}

TEST_CASE("a parameter given twice is refused", "[query_form]") {
  CHECK(refused(with_query({{"info", "a"}, {"info", "b"}}), {"info"}) == "info");
  CHECK(refused(with_query({{"auth_key", "k"}}), {}) == "auth_key");
}

TEST_CASE("values that would sign like another split or like an auth string are refused", "[query_form]") {
  // A decoded '&' signs like a parameter boundary: name=evt%26socket_id%3D1.2 signs as name=evt&socket_id=1.2.
  CHECK(refused(with_query({{"name", "evt&socket_id=1.2"}}), {"name", "socket_id"}) == "name");
  // Every string an app's auth endpoint signs has a ':' after the client's socket_id.
  CHECK(refused(with_query({{"name", "x:private-users.42.a"}}), {"name"}) == "name");
  CHECK(refused(with_query({{"filter_by_prefix", ":private-users.42.a"}}), {"filter_by_prefix"}) == "filter_by_prefix");
  for (const std::string& bad : std::vector<std::string>{"a\nb", "a\rb", std::string("a\0b", 3), "a\x7f", "\t"}) {
    INFO("value " << bad.size() << " bytes");
    CHECK(refused(with_query({{"name", bad}}), {"name"}) == "name");
  }
  CHECK(refused(with_query({{"name", "a=b c,d;é"}}), {"name"}).empty());  // '=' in a value keeps the split
}
