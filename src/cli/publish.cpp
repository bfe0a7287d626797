// raptor publish CHANNEL EVENT DATA: POST /apps/{id}/events, as a server SDK's trigger.
#include <ctime>
#include <cstdio>

#include "cli/commands.h"
#include "cli/signed_request.h"
#include "protocol/json.h"

namespace raptor::cli {
namespace {

std::string published(const cJSON*) { return {}; }  // quiet on success, like cp and kill

}  // namespace

int publish(const Invocation& inv) {
  std::string channel, why;
  if (!channel_name_of(inv.args[0], channel, why)) {
    fprintf(stderr, "raptor publish: %s\n", why.c_str());
    return kUsage;
  }
  // DATA is the event's data string as given: Pusher's data is a string, and JSON text in it
  // reaches pusher-js as the object it parses.
  std::string body = "{\"name\":";
  json::append_quoted(body, inv.args[1]);
  body += ",\"channel\":";
  json::append_quoted(body, channel);
  body += ",\"data\":";
  json::append_quoted(body, inv.args[2]);
  body += "}";
  return exchange("publish", inv,
                  signed_request(inv.target.app, "POST", "/apps/" + inv.target.app.id + "/events", {}, body, time(nullptr)),
                  published);
}

}  // namespace raptor::cli
