// raptor stats: the signed GET /health, until raptor keeps statistics of its own: the status
// (ok, or draining), and the webhook and cluster counters when those are in use.
#include <ctime>

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

}  // namespace

std::string health_lines(const cJSON* body) {
  std::string out;
  flatten(body, "", out);
  return out;
}

int stats(const Invocation& inv) {
  return exchange("stats", inv, signed_request(inv.target.app, "GET", "/health", {}, "", time(nullptr)), health_lines);
}

}  // namespace raptor::cli
