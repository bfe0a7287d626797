#include "http/endpoints/channel_resources.h"

#include "http/endpoints/channels.h"
#include "http/endpoints/events.h"
#include "http/request_auth.h"
#include "http/validation.h"
#include "protocol/channel_resource.h"

namespace raptor::http {

void route_resource(Engine& engine, const Request& req, int64_t now_s, const Respond& respond) {
  const std::string* key = req.param("auth_key");
  const App* app = key ? engine.app_by_key(*key) : nullptr;
  if (!app) return respond(error(401, key ? "Unknown auth_key" : "auth_key is required: sign the request as for the HTTP API"));
  if (auto why = verify_request(*app, req, now_s)) return respond(error(401, *why));
  bool get = allows("GET", req.method);
  if (!get && req.method != "POST") return respond(not_allowed("GET, POST"));
  if (auto refusal = refuse_query(req, {})) return respond(*refusal);
  constexpr std::string_view kMembers = "/members";
  std::string path = req.path;
  bool members = get && path.size() > kMembers.size() &&
                 path.compare(path.size() - kMembers.size(), kMembers.size(), kMembers) == 0;
  if (members) path.resize(path.size() - kMembers.size());
  ChannelResource address = channel_from_resource(path);
  if (!address.valid()) return respond(error(address.status, address.error));
  AppCall call{engine, *app, req, address.name};
  if (!get) return publish_to_resource(call, respond);
  if (members) return channel_users(call, respond);
  channel_state(call, respond);
}

}  // namespace raptor::http
