// raptor stats and raptor health: what a server says of itself. stats reads the app's statistics
// (GET /apps/{id}/stats, the cluster's with --redis; --channel: one channel's), health the signed
// GET /health (the status, and the webhook and cluster counters when those are in use).
#include <cstdio>
#include <ctime>
#include <string>
#include <utility>
#include <vector>

#include "cli/commands.h"
#include "cli/signed_request.h"

namespace raptor::cli {
namespace {

void flatten(const cJSON* node, const std::string& path, std::string& out) {
  if (cJSON_IsObject(node)) {
    const cJSON* child = nullptr;
    cJSON_ArrayForEach(child, node) flatten(child, path.empty() ? child->string : path + "." + child->string, out);
    return;
  }
  out += path + ": ";
  if (cJSON_IsString(node)) {
    out += node->valuestring;
  } else {
    char* text = cJSON_PrintUnformatted(node);
    out += text ? text : "?";
    cJSON_free(text);
  }
  out += "\n";
}

const cJSON* item(const cJSON* obj, const char* key) { return cJSON_GetObjectItemCaseSensitive(obj, key); }

// A count of the answer as digits ("?" when the server left it out).
std::string count(const cJSON* obj, const char* key) {
  const cJSON* v = item(obj, key);
  return cJSON_IsNumber(v) ? std::to_string(static_cast<long long>(v->valuedouble)) : "?";
}

std::string text(const cJSON* obj, const char* key) {
  const cJSON* v = item(obj, key);
  return cJSON_IsString(v) ? v->valuestring : "?";
}

// "3 in all, 1 in the last minute, 3 in the last hour"
std::string messages(const cJSON* figures) {
  return count(figures, "total") + " in all, " + count(figures, "last_minute") + " in the last minute, " +
         count(figures, "last_hour") + " in the last hour";
}

}  // namespace

std::string health_lines(const cJSON* body) {
  std::string out;
  flatten(body, "", out);
  return out;
}

std::string stats_lines(const cJSON* body) {
  const cJSON* connections = item(body, "connections");
  const cJSON* channels = item(body, "channels");
  std::string out = "app: " + text(body, "app") + "\n";
  out += "connections: " + count(connections, "current") + " (at most " + count(connections, "peak") + ")\n";
  out += "messages: " + messages(item(body, "messages")) + "\n";
  out += "channels: " + count(channels, "occupied") + " occupied, " + count(channels, "tracked") + " tracked\n";
  const cJSON* entry = nullptr;
  if (cJSON_GetArraySize(item(body, "top_channels")) > 0) {
    out += "busiest channels (messages in the last hour, in the last minute):\n";
    cJSON_ArrayForEach(entry, item(body, "top_channels")) {
      const cJSON* m = item(entry, "messages");
      out += "  " + text(entry, "name") + ": " + count(m, "last_hour") + ", " + count(m, "last_minute") + "\n";
    }
  }
  if (cJSON_GetArraySize(item(body, "largest_presence_channels")) > 0) {
    out += "largest presence channels (users):\n";
    cJSON_ArrayForEach(entry, item(body, "largest_presence_channels"))
      out += "  " + text(entry, "name") + ": " + count(entry, "user_count") + "\n";
  }
  if (cJSON_GetArraySize(item(body, "nodes")) > 0) {
    out += "nodes (connections, messages in all):\n";
    cJSON_ArrayForEach(entry, item(body, "nodes"))
      out += "  " + text(entry, "node") + ": " + count(entry, "connections") + ", " + count(entry, "messages_total") + "\n";
  }
  return out;
}

std::string channel_stats_lines(const cJSON* body) {
  std::string out = "channel: " + text(body, "name") + "\n";
  out += std::string("occupied: ") + (cJSON_IsTrue(item(body, "occupied")) ? "yes" : "no") + "\n";
  out += "subscriptions: " + count(body, "subscription_count") + "\n";
  if (item(body, "user_count")) out += "users: " + count(body, "user_count") + "\n";
  // An untracked channel's zeros mean "not followed", not "silent" (docs/metrics.md#statistics).
  out += "messages: " +
         (cJSON_IsTrue(item(body, "tracked")) ? messages(item(body, "messages"))
                                              : std::string("not tracked (none published lately)")) +
         "\n";
  return out;
}

int stats(const Invocation& inv) {
  const App& app = inv.target.app;
  auto channel = inv.values.find("--channel");
  if (channel != inv.values.end()) {
    std::string name, why;
    if (!channel_name_of(channel->second, name, why)) {
      fprintf(stderr, "raptor stats: %s\n", why.c_str());
      return kUsage;
    }
    if (inv.values.count("--top")) {
      fprintf(stderr, "raptor stats: --top lists an app's channels, not one channel's figures\n");
      return kUsage;
    }
    return exchange("stats", inv,
                    signed_request(app, "GET", "/apps/" + app.id + "/channels/" + name + "/stats", {}, "", time(nullptr)),
                    channel_stats_lines);
  }
  std::vector<std::pair<std::string, std::string>> query;
  auto top = inv.values.find("--top");
  if (top != inv.values.end()) query.emplace_back("top", top->second);  // the server checks it: 1 to 100
  return exchange("stats", inv, signed_request(app, "GET", "/apps/" + app.id + "/stats", std::move(query), "", time(nullptr)),
                  stats_lines);
}

int health(const Invocation& inv) {
  return exchange("health", inv, signed_request(inv.target.app, "GET", "/health", {}, "", time(nullptr)), health_lines);
}

}  // namespace raptor::cli
