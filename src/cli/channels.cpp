// raptor channels [--prefix P] and raptor users CHANNEL: the HTTP API's channel reads.
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <vector>

#include "cli/commands.h"
#include "cli/signed_request.h"
#include "protocol/channel_resource.h"

namespace raptor::cli {

bool channel_name_of(const std::string& given, std::string& name, std::string& why) {
  if (given.empty()) return why = "the channel is empty", false;
  if (given[0] != '/') return name = given, true;
  ChannelResource resource = channel_from_resource(given);
  if (!resource.valid()) return why = "'" + given + "' is no channel address: " + resource.error, false;
  name = resource.name;
  return true;
}

std::string channel_lines(const cJSON* body) {
  std::vector<std::string> names;
  const cJSON* channels = cJSON_GetObjectItemCaseSensitive(body, "channels");
  const cJSON* channel = nullptr;
  cJSON_ArrayForEach(channel, channels) if (channel->string) names.emplace_back(channel->string);
  std::sort(names.begin(), names.end());
  std::string out;
  for (const auto& n : names) out += n + "\n";
  return out;
}

std::string user_lines(const cJSON* body) {
  std::string out;
  const cJSON* user = nullptr;
  cJSON_ArrayForEach(user, cJSON_GetObjectItemCaseSensitive(body, "users")) {
    const cJSON* id = cJSON_GetObjectItemCaseSensitive(user, "id");
    if (cJSON_IsString(id)) out += std::string(id->valuestring) + "\n";
  }
  return out;
}

int channels(const Invocation& inv) {
  std::vector<std::pair<std::string, std::string>> query;
  auto prefix = inv.values.find("--prefix");
  if (prefix != inv.values.end()) query.emplace_back("filter_by_prefix", prefix->second);
  return exchange("channels", inv,
                  signed_request(inv.target.app, "GET", "/apps/" + inv.target.app.id + "/channels", std::move(query), "",
                                 time(nullptr)),
                  channel_lines);
}

int users(const Invocation& inv) {
  std::string channel, why;
  if (!channel_name_of(inv.args[0], channel, why)) {
    fprintf(stderr, "raptor users: %s\n", why.c_str());
    return kUsage;
  }
  return exchange("users", inv,
                  signed_request(inv.target.app, "GET", "/apps/" + inv.target.app.id + "/channels/" + channel + "/users",
                                 {}, "", time(nullptr)),
                  user_lines);
}

}  // namespace raptor::cli
