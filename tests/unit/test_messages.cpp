// protocol/messages and protocol/json: the exact bytes of every server frame (each must also be
// valid JSON that decodes to the intended values) and which client frames are accepted.
#include "protocol/messages.h"

#include "protocol/json.h"
#include "support.h"

using namespace raptor;
using namespace std::string_literals;
using raptor::test::parse_frame;
using raptor::test::strict_parse;
using raptor::test::string_of;
using raptor::test::number_of;

TEST_CASE("json::quoted escapes quotes, backslashes and control characters", "[messages][json]") {
  CHECK(json::quoted("") == "\"\"");
  CHECK(json::quoted("plain") == "\"plain\"");
  CHECK(json::quoted("a\"b\\c") == "\"a\\\"b\\\\c\"");
  CHECK(json::quoted("\n\r\t\b\f") == "\"\\n\\r\\t\\b\\f\"");
  CHECK(json::quoted(std::string_view("\x01\x1f\0", 3)) == "\"\\u0001\\u001f\\u0000\"");
  // Runs of plain text between escapes, at either end too.
  CHECK(json::quoted("\"ab\ncd\\") == "\"\\\"ab\\ncd\\\\\"");
  CHECK(json::quoted("caf\xc3\xa9 /") == "\"caf\xc3\xa9 /\"");  // UTF-8 and '/' pass through
  std::string out = "x";
  json::append_quoted(out, "y");
  CHECK(out == "x\"y\"");
  // Round trip through cJSON.
  std::string tricky = "q\"b\\s\n\x02 end";
  auto root = strict_parse(json::quoted(tricky));
  REQUIRE(cJSON_IsString(root.get()));
  CHECK(std::string(root->valuestring) == tricky);
}

TEST_CASE("json::parse, print and string_member", "[messages][json]") {
  CHECK(json::parse("not json") == nullptr);
  CHECK(json::parse("") == nullptr);
  CHECK(json::parse("{\"a\":") == nullptr);
  auto p = json::parse("{\"a\":\"x\",\"n\":1}");
  REQUIRE(p != nullptr);
  CHECK(json::print(p.get()) == "{\"a\":\"x\",\"n\":1}");
  CHECK(json::string_member(p.get(), "a").value_or("?") == "x");
  CHECK_FALSE(json::string_member(p.get(), "n").has_value());
  CHECK_FALSE(json::string_member(p.get(), "missing").has_value());
  CHECK_FALSE(json::string_member(nullptr, "a").has_value());
  // Only the given length is read.
  std::string buf = "{\"a\":1}GARBAGE";
  CHECK(json::parse(std::string_view(buf.data(), 7)) != nullptr);
}

// BUG: json.h promises "null on malformed JSON", but cJSON_ParseWithLength stops after the first
// value and ignores whatever follows, so `{} garbage` parses.
TEST_CASE("json::parse rejects trailing bytes after the value", "[messages][json]") {
  CHECK(json::parse("{\"a\":1} garbage") == nullptr);
  CHECK(json::parse("{\"a\":1}}") == nullptr);
  CHECK(json::parse("[1,2]]") == nullptr);
  CHECK(json::parse("{\"a\":1}  \n") != nullptr);  // trailing whitespace is fine
}

// Found by client_message_fuzz (issue 20): a client event whose data held raw control characters
// in a string was accepted and relayed as sent, which other clients' JSON.parse refuses.
TEST_CASE("json::parse refuses control characters except white space between tokens", "[messages][json]") {
  CHECK(json::parse("{\"a\":\"x\x01y\"}") == nullptr);
  CHECK(json::parse("{\"a\x00" "b\":1}"s) == nullptr);
  CHECK(json::parse("{\"a\":\"tab\there\"}") == nullptr);  // raw, not the escape
  CHECK(json::parse("{\x01\"a\":1}") == nullptr);
  CHECK(json::parse("{\"a\":1}\x00"s) == nullptr);
  // White space between tokens, and every control character escaped, stay valid.
  CHECK(json::parse("{\t\"a\" :\r\n[1,\n2]}") != nullptr);
  CHECK(json::parse("{\"a\":\"\\u0001\\t\\n\\\"\\\\\"}") != nullptr);
  // An escaped quote does not end the string: the control character after it is still inside.
  CHECK(json::parse("{\"a\":\"\\\"\x02\"}") == nullptr);
  messages::ClientMessage m;
  CHECK_FALSE(messages::parse_client_message(
      "{\"event\":\"client-x\",\"channel\":\"private-c\",\"data\":{\"k\x00\":\"v\"}}"s, m));
}

// Issue 20: cJSON ends its strings at a NUL, so "private-a\u0000b" was read as "private-a"
// while the raw text relayed on still held the rest. A text with the escape is refused whole.
TEST_CASE("json::parse refuses the escape u0000 anywhere in a string, and only the escape", "[messages][json]") {
  CHECK(json::parse(R"({"event":"pusher:subscribe","data":{"channel":"private-a\u0000b"}})") == nullptr);
  CHECK(json::parse(R"({"event":"client-x","channel":"private-c","data":{"text":"\u0000"}})") == nullptr);
  CHECK(json::parse(R"({"\u0000":1})") == nullptr);
  CHECK(json::parse(R"(["\u0000"])") == nullptr);
  // An escaped backslash then "u0000" is the six characters \u0000, which strings keep whole.
  auto literal = json::parse(R"({"text":"\\u0000"})");
  REQUIRE(literal != nullptr);
  CHECK(json::string_member(literal.get(), "text").value_or("?") == "\\u0000");
  // Other escapes of control characters keep their meaning.
  auto other = json::parse(R"({"text":"a\u0001b\u0020"})");
  REQUIRE(other != nullptr);
  CHECK(json::string_member(other.get(), "text").value_or("?") == std::string_view("a\x01" "b ", 4));
  messages::ClientMessage m;
  CHECK_FALSE(messages::parse_client_message(R"({"event":"pusher:subscribe","data":{"channel":"a\u0000"}})", m));
}

TEST_CASE("connection_established double-encodes socket_id and activity_timeout", "[messages]") {
  std::string f = messages::connection_established("123.456", 120);
  CHECK(f == "{\"event\":\"pusher:connection_established\","
             "\"data\":\"{\\\"socket_id\\\":\\\"123.456\\\",\\\"activity_timeout\\\":120}\"}");
  auto p = parse_frame(f);
  CHECK(p.event == "pusher:connection_established");
  CHECK_FALSE(p.channel);
  REQUIRE(cJSON_IsString(p.data));
  REQUIRE(p.inner);
  CHECK(string_of(p.inner.get(), "socket_id") == "123.456");
  CHECK(number_of(p.inner.get(), "activity_timeout") == 120);
  CHECK(messages::connection_established("1.2", 30) ==
        "{\"event\":\"pusher:connection_established\","
        "\"data\":\"{\\\"socket_id\\\":\\\"1.2\\\",\\\"activity_timeout\\\":30}\"}");
}

TEST_CASE("error keeps data an object with code and message", "[messages]") {
  std::string f = messages::error(4301, "Too \"fast\"");
  CHECK(f == "{\"event\":\"pusher:error\",\"data\":{\"code\":4301,\"message\":\"Too \\\"fast\\\"\"}}");
  auto p = parse_frame(f);
  REQUIRE(cJSON_IsObject(p.data));
  CHECK(number_of(p.data, "code") == 4301);
  CHECK(string_of(p.data, "message") == "Too \"fast\"");
}

TEST_CASE("ping and pong carry an empty object", "[messages]") {
  CHECK(messages::ping() == "{\"event\":\"pusher:ping\",\"data\":{}}");
  CHECK(messages::pong() == "{\"event\":\"pusher:pong\",\"data\":{}}");
  CHECK(cJSON_IsObject(parse_frame(messages::ping()).data));
  CHECK(cJSON_IsObject(parse_frame(messages::pong()).data));
}

TEST_CASE("subscription_succeeded double-encodes its data", "[messages]") {
  CHECK(messages::subscription_succeeded("private-x", "{}") ==
        "{\"event\":\"pusher_internal:subscription_succeeded\",\"channel\":\"private-x\",\"data\":\"{}\"}");
  std::string presence = "{\"presence\":{\"ids\":[\"1\"],\"hash\":{\"1\":{\"name\":\"A\"}},\"count\":1}}";
  std::string f = messages::subscription_succeeded("presence-room", presence);
  CHECK(f == "{\"event\":\"pusher_internal:subscription_succeeded\",\"channel\":\"presence-room\","
             "\"data\":\"{\\\"presence\\\":{\\\"ids\\\":[\\\"1\\\"],\\\"hash\\\":{\\\"1\\\":{\\\"name\\\":\\\"A\\\"}},"
             "\\\"count\\\":1}}\"}");
  auto p = parse_frame(f);
  CHECK(p.channel == std::optional<std::string>("presence-room"));
  REQUIRE(p.inner);
  const cJSON* pres = raptor::test::member(p.inner.get(), "presence");
  CHECK(number_of(pres, "count") == 1);
  CHECK(string_of(raptor::test::member(raptor::test::member(pres, "hash"), "1"), "name") == "A");
}

TEST_CASE("subscription_error is a channel event with type, error, status and code", "[messages]") {
  std::string f = messages::subscription_error("private-x", "AuthError", "Invalid \"sig\"", 401, 4304);
  CHECK(f == "{\"event\":\"pusher:subscription_error\",\"channel\":\"private-x\","
             "\"data\":{\"type\":\"AuthError\",\"error\":\"Invalid \\\"sig\\\"\",\"status\":401,\"code\":4304}}");
  auto p = parse_frame(f);
  REQUIRE(cJSON_IsObject(p.data));
  CHECK(string_of(p.data, "type") == "AuthError");
  CHECK(string_of(p.data, "error") == "Invalid \"sig\"");
  CHECK(number_of(p.data, "status") == 401);
  CHECK(number_of(p.data, "code") == 4304);
}

TEST_CASE("member_added and member_removed double-encode user_id and user_info", "[messages]") {
  std::string added = messages::member_added("presence-r", "42", "{\"name\":\"A\"}");
  CHECK(added == "{\"event\":\"pusher_internal:member_added\",\"channel\":\"presence-r\","
                 "\"data\":\"{\\\"user_id\\\":\\\"42\\\",\\\"user_info\\\":{\\\"name\\\":\\\"A\\\"}}\"}");
  auto p = parse_frame(added);
  REQUIRE(p.inner);
  CHECK(string_of(p.inner.get(), "user_id") == "42");
  CHECK(string_of(raptor::test::member(p.inner.get(), "user_info"), "name") == "A");

  std::string null_info = messages::member_added("presence-r", "u\"1", "null");
  auto q = parse_frame(null_info);
  REQUIRE(q.inner);
  CHECK(string_of(q.inner.get(), "user_id") == "u\"1");
  CHECK(cJSON_IsNull(raptor::test::member(q.inner.get(), "user_info")));

  std::string removed = messages::member_removed("presence-r", "42");
  CHECK(removed == "{\"event\":\"pusher_internal:member_removed\",\"channel\":\"presence-r\","
                   "\"data\":\"{\\\"user_id\\\":\\\"42\\\"}\"}");
  auto r = parse_frame(removed);
  REQUIRE(r.inner);
  CHECK(string_of(r.inner.get(), "user_id") == "42");
}

TEST_CASE("channel_event_raw embeds the data JSON and appends user_id when given", "[messages]") {
  CHECK(messages::channel_event_raw("client-typing", "private-c", "{\"x\":1}") ==
        "{\"event\":\"client-typing\",\"channel\":\"private-c\",\"data\":{\"x\":1}}");
  std::string f = messages::channel_event_raw("client-typing", "presence-c", "\"hi\"", "7");
  CHECK(f == "{\"event\":\"client-typing\",\"channel\":\"presence-c\",\"data\":\"hi\",\"user_id\":\"7\"}");
  auto p = parse_frame(f);
  CHECK(string_of(p.root.get(), "user_id") == "7");
  REQUIRE(cJSON_IsString(p.data));
  CHECK(std::string(p.data->valuestring) == "hi");
}

TEST_CASE("channel_event passes an API data string through verbatim as a JSON string", "[messages]") {
  std::string f = messages::channel_event("my-event", "ch", "{\"some\":\"data\"}");
  CHECK(f == "{\"event\":\"my-event\",\"channel\":\"ch\",\"data\":\"{\\\"some\\\":\\\"data\\\"}\"}");
  auto p = parse_frame(f);
  REQUIRE(cJSON_IsString(p.data));
  CHECK(std::string(p.data->valuestring) == "{\"some\":\"data\"}");
  // Not JSON inside: still a valid frame, the string unchanged.
  auto q = parse_frame(messages::channel_event("e\"v", "ch", "plain \\ text\n"));
  CHECK(q.event == "e\"v");
  CHECK(std::string(q.data->valuestring) == "plain \\ text\n");
}

TEST_CASE("for_pattern names the pattern as channel and adds concrete_channel, the rest unchanged", "[messages]") {
  std::string event = messages::channel_event("e", "galleries.5", "{\"n\":1}");
  CHECK(messages::for_pattern(event, "galleries.5", "galleries.*", "galleries.5") ==
        "{\"event\":\"e\",\"channel\":\"galleries.*\",\"concrete_channel\":\"galleries.5\",\"data\":\"{\\\"n\\\":1}\"}");
  std::string client = messages::channel_event_raw("client-x", "private-a.b", "{\"channel\":\"private-a.b\"}");
  CHECK(messages::for_pattern(client, "private-a.b", "/channels/private/a/*", "/channels/private/a/b") ==
        "{\"event\":\"client-x\",\"channel\":\"/channels/private/a/*\",\"concrete_channel\":\"/channels/private/a/b\","
        "\"data\":{\"channel\":\"private-a.b\"}}");
}

TEST_CASE("parse_client_message accepts objects with a string event", "[messages]") {
  messages::ClientMessage m;
  REQUIRE(messages::parse_client_message(
      "{\"event\":\"client-x\",\"channel\":\"private-a\",\"data\":{\"k\":1}}", m));
  CHECK(m.event == "client-x");
  CHECK(m.channel == "private-a");
  CHECK(m.data_is_object);
  CHECK(m.data_text == "{\"k\":1}");

  REQUIRE(messages::parse_client_message("{\"event\":\"pusher:ping\"}", m));
  CHECK(m.event == "pusher:ping");
  CHECK(m.channel.empty());
  CHECK(m.data_text.empty());
  CHECK_FALSE(m.data_is_object);

  REQUIRE(messages::parse_client_message("  {\"data\":\"s\",\"event\":\"e\",\"channel\":5}  ", m));
  CHECK(m.event == "e");
  CHECK(m.channel.empty());  // a non-string channel counts as absent
  CHECK(m.data_text == "\"s\"");
  CHECK_FALSE(m.data_is_object);

  // A previous parse is replaced, not merged.
  REQUIRE(messages::parse_client_message(
      "{\"event\":\"pusher:subscribe\",\"data\":{\"channel\":\"presence-a\",\"auth\":\"k:s\",\"channel_data\":\"{}\"}}", m));
  CHECK(m.data_channel == std::optional<std::string_view>("presence-a"));
  CHECK(m.auth == std::optional<std::string_view>("k:s"));
  CHECK(m.channel_data == std::optional<std::string_view>("{}"));
  REQUIRE(messages::parse_client_message("{\"event\":\"second\"}", m));
  CHECK(m.event == "second");
  CHECK(m.data_text.empty());
  CHECK_FALSE(m.data_channel);
  CHECK_FALSE(m.auth);
  CHECK_FALSE(m.channel_data);
}

TEST_CASE("parse_client_message reads the string members pusher: events use, as sent", "[messages]") {
  messages::ClientMessage m;
  REQUIRE(messages::parse_client_message(
      "{\"event\":\"pusher:signin\",\"data\":{\"auth\":5,\"user_data\":\"{\\\"id\\\":\\\"1\\\"}\"}}", m));
  CHECK_FALSE(m.auth);  // not a string: absent
  CHECK(m.user_data == std::optional<std::string_view>("{\"id\":\"1\"}"));
  CHECK_FALSE(m.data_channel);
}

TEST_CASE("parse_client_message rejects everything else", "[messages]") {
  messages::ClientMessage m;
  for (const char* text : {"", "not json", "{", "[]", "[{\"event\":\"x\"}]", "\"event\"", "42", "null",
                           "{}", "{\"event\":1}", "{\"event\":null}", "{\"event\":{}}", "{\"Event\":\"x\"}",
                           "{\"channel\":\"c\",\"data\":{}}"}) {
    INFO("text: " << text);
    CHECK_FALSE(messages::parse_client_message(text, m));
  }
}

TEST_CASE("parse_client_message rejects a frame with bytes after the object", "[messages]") {
  messages::ClientMessage m;
  CHECK_FALSE(messages::parse_client_message("{\"event\":\"pusher:ping\"}}", m));
  CHECK_FALSE(messages::parse_client_message("{\"event\":\"pusher:ping\"} {\"event\":\"pusher:ping\"}", m));
}

TEST_CASE("parse_member_event reads back member_added and member_removed, and nothing else", "[messages]") {
  auto added = messages::parse_member_event(messages::member_added("presence-r", "a\"b", "{\"n\":1}"));
  REQUIRE(added);
  CHECK(added->added);
  CHECK(added->user_id == "a\"b");
  auto removed = messages::parse_member_event(messages::member_removed("presence-r", "7"));
  REQUIRE(removed);
  CHECK_FALSE(removed->added);
  CHECK(removed->user_id == "7");
  CHECK_FALSE(messages::parse_member_event(messages::channel_event("e", "presence-r", "{\"user_id\":\"x\"}")));
  CHECK_FALSE(messages::parse_member_event("not json"));
}
