// core/presence_roster: presence is per user; the JSON the roster gives subscribers and the API.
#include "core/presence_roster.h"

#include "support.h"

using namespace raptor;
using raptor::test::member;
using raptor::test::number_of;
using raptor::test::strict_parse;

TEST_CASE("an empty roster", "[presence_roster]") {
  PresenceRoster r;
  CHECK(r.user_count() == 0);
  CHECK_FALSE(r.contains("1"));
  CHECK(r.to_json() == "{\"presence\":{\"ids\":[],\"hash\":{},\"count\":0}}");
  CHECK(r.users_json() == "[]");
  CHECK_FALSE(r.remove("1"));
}

TEST_CASE("add reports only a user's first connection, remove only the last", "[presence_roster]") {
  PresenceRoster r;
  CHECK(r.add("u1", "{\"name\":\"A\"}"));
  CHECK_FALSE(r.add("u1", "{\"name\":\"A\"}"));
  CHECK_FALSE(r.add("u1", "{\"name\":\"A\"}"));
  CHECK(r.add("u2", "null"));
  CHECK(r.user_count() == 2);
  CHECK(r.contains("u1"));

  CHECK_FALSE(r.remove("u1"));
  CHECK_FALSE(r.remove("u1"));
  CHECK(r.contains("u1"));
  CHECK(r.user_count() == 2);
  CHECK(r.remove("u1"));  // third connection gone: the user leaves
  CHECK_FALSE(r.contains("u1"));
  CHECK(r.user_count() == 1);
  CHECK_FALSE(r.remove("u1"));  // unknown now

  // A user who left and comes back is new again.
  CHECK(r.add("u1", "{}"));
  CHECK(r.user_count() == 2);
}

TEST_CASE("to_json lists ids, hash and a count of distinct users in id order", "[presence_roster]") {
  PresenceRoster r;
  r.add("2", "{\"name\":\"B\"}");
  r.add("10", "{\"name\":\"Ten\"}");
  r.add("1", "{\"name\":\"A\"}");
  r.add("1", "{\"name\":\"ignored: the first connection's info stays\"}");
  CHECK(r.to_json() ==
        "{\"presence\":{\"ids\":[\"1\",\"10\",\"2\"],"
        "\"hash\":{\"1\":{\"name\":\"A\"},\"10\":{\"name\":\"Ten\"},\"2\":{\"name\":\"B\"}},\"count\":3}}");
  auto root = strict_parse(r.to_json());
  const cJSON* presence = member(root.get(), "presence");
  CHECK(number_of(presence, "count") == 3);
  CHECK(cJSON_GetArraySize(member(presence, "ids")) == 3);
  CHECK(r.users_json() == "[{\"id\":\"1\"},{\"id\":\"10\"},{\"id\":\"2\"}]");
}

TEST_CASE("roster JSON escapes user ids and keeps null info", "[presence_roster]") {
  PresenceRoster r;
  r.add("a\"b", "null");
  CHECK(r.to_json() == "{\"presence\":{\"ids\":[\"a\\\"b\"],\"hash\":{\"a\\\"b\":null},\"count\":1}}");
  CHECK(r.users_json() == "[{\"id\":\"a\\\"b\"}]");
  auto root = strict_parse(r.to_json());
  const cJSON* hash = member(member(root.get(), "presence"), "hash");
  CHECK(cJSON_IsNull(member(hash, "a\"b")));
  strict_parse(r.users_json());
}
