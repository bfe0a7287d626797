// protocol/channel_resource: /channels/{type}/{segment}/… to and from Pusher channel names, the
// refusals with their status and rule, and the round trip over random names.
#include "protocol/channel_resource.h"

#include <random>
#include <string>

#include "protocol/channel_name.h"
#include "support.h"

using namespace raptor;

namespace {

std::string name_of(std::string_view path) {
  ChannelResource r = channel_from_resource(path);
  INFO(path << ": " << r.error);
  REQUIRE(r.valid());
  return r.name;
}

void require_refused(std::string_view path, int status, std::string_view mentions) {
  ChannelResource r = channel_from_resource(path);
  INFO(path << " -> '" << r.name << "' / " << r.status << " " << r.error);
  CHECK(r.status == status);
  CHECK(r.name.empty());
  CHECK(r.error.find(mentions) != std::string::npos);
}

}  // namespace

TEST_CASE("each type maps its segments to a prefixed, dot-joined name", "[channel_resource]") {
  CHECK(name_of("/channels/public/news") == "news");
  CHECK(name_of("/channels/public/news/uk") == "news.uk");
  CHECK(name_of("/channels/private/galleries/123/comments") == "private-galleries.123.comments");
  CHECK(name_of("/channels/presence/room/7") == "presence-room.7");
  CHECK(name_of("/channels/privileged/room/7") == "presence-privileged-room.7");
  CHECK(name_of("/channels/public/a_b-c=d@e,f;g") == "a_b-c=d@e,f;g");
  // "private" without its dash is just a word in a public name.
  CHECK(name_of("/channels/public/private") == "private");
  CHECK(name_of("/channels/public/cache-news") == "cache-news");
  CHECK(name_of("/channels/private/cache-news") == "private-cache-news");
}

TEST_CASE("names map back to their addresses", "[channel_resource]") {
  CHECK(resource_of_channel("news") == "/channels/public/news");
  CHECK(resource_of_channel("news.uk") == "/channels/public/news/uk");
  CHECK(resource_of_channel("private-galleries.123.comments") == "/channels/private/galleries/123/comments");
  CHECK(resource_of_channel("presence-room.7") == "/channels/presence/room/7");
  CHECK(resource_of_channel("presence-privileged-room.7") == "/channels/privileged/room/7");
}

TEST_CASE("names without an address", "[channel_resource]") {
  CHECK_FALSE(resource_of_channel("private-encrypted-secret"));
  CHECK_FALSE(resource_of_channel("#server-to-user-42"));
  CHECK_FALSE(resource_of_channel("a..b"));
  CHECK_FALSE(resource_of_channel(".a"));
  CHECK_FALSE(resource_of_channel("a."));
  CHECK_FALSE(resource_of_channel("private-"));
  CHECK_FALSE(resource_of_channel("presence-privileged-"));
  CHECK_FALSE(resource_of_channel(""));
  CHECK_FALSE(resource_of_channel("has space"));
}

TEST_CASE("malformed addresses are refused with 400 or 404 and the rule broken", "[channel_resource]") {
  require_refused("/channels/secret/x", 404, "Unknown channel type 'secret'");
  require_refused("/channels/", 404, "Unknown channel type ''");
  require_refused("/other/public/x", 404, "begin with /channels/");
  require_refused("/channels/public", 400, "at least one segment");
  require_refused("/channels/public/", 400, "Empty segment 1");
  require_refused("/channels/public/a//b", 400, "Empty segment 2");
  require_refused("/channels/public/a/", 400, "Empty segment 2");
  require_refused("/channels/public/a.b", 400, "Segment 'a.b'");
  require_refused("/channels/public/a%20b", 400, "Segment 'a%20b'");
  require_refused("/channels/public/*", 400, "Segment '*'");
  // Reserved prefixes: the address would name a channel of another type.
  require_refused("/channels/public/private-x", 400, "reserved prefix");
  require_refused("/channels/public/presence-room", 400, "reserved prefix");
  require_refused("/channels/private/encrypted-x", 400, "may not begin with 'encrypted-'");
  require_refused("/channels/presence/privileged-x", 400, "may not begin with 'privileged-'");
  require_refused("/channels/public/" + std::string(201, 'a'), 400, "longer than 200");
  CHECK(channel_from_resource("/channels/public/" + std::string(200, 'a')).valid());
}

TEST_CASE("random names with an address survive the round trip, and addresses name valid channels",
          "[channel_resource]") {
  std::mt19937 rng(20261126);
  const std::string chars = "abcXYZ019_-=@,;";
  const char* prefixes[] = {"", "private-", "presence-", "presence-privileged-"};
  for (int i = 0; i < 2000; ++i) {
    std::string name = prefixes[rng() % 4];
    int segments = 1 + int(rng() % 4);
    for (int s = 0; s < segments; ++s) {
      if (s) name += '.';
      int len = 1 + int(rng() % 6);
      for (int k = 0; k < len; ++k) name += chars[rng() % chars.size()];
    }
    INFO(name);
    auto path = resource_of_channel(name);
    // A private name continuing "encrypted-" is an encrypted channel: no address. Likewise a
    // public one that happens to spell a prefix cannot arise from these characters.
    if (channel_type(name) == ChannelType::Encrypted) {
      CHECK_FALSE(path);
      continue;
    }
    REQUIRE(path);
    ChannelResource back = channel_from_resource(*path);
    INFO(*path << ": " << back.error);
    REQUIRE(back.valid());
    CHECK(back.name == name);
    CHECK(is_valid_channel_name(back.name));
  }
}

TEST_CASE("a wildcard pattern's address reads as the pattern, only where patterns are asked for", "[channel_resource]") {
  CHECK(channel_from_resource("/channels/public/galleries/*/comments", true).name == "galleries.*.comments");
  CHECK(channel_from_resource("/channels/private/galleries/**", true).name == "private-galleries.**");
  // The pattern rules are the caller's: this reads, the engine refuses it with the rule.
  CHECK(channel_from_resource("/channels/public/a/**/b", true).name == "a.**.b");
  require_refused("/channels/public/galleries/*", 400, "Segment '*'");  // not a pattern's place
  CHECK(resource_of_channel("galleries.*.comments") == "/channels/public/galleries/*/comments");
  CHECK(resource_of_channel("private-galleries.**") == "/channels/private/galleries/**");
  CHECK_FALSE(resource_of_channel("a.**.b"));  // not a valid pattern
}
