// The one form of an HTTP API query that signs unambiguously (docs/protocol.md#query-parameters).
//
// Pusher's string to sign joins the decoded parameters as k=v with '&' after "METHOD\nPATH\n". So
// a decoded '&' in a value, a name given twice or spelled in another case would sign like another
// split of the query; and the HMAC key is the one an app's auth endpoint uses to sign
// "socket_id:channel" for a socket_id the client chose, so a parameter the endpoint does not read,
// or a value with a ':' in it, could carry the rest of such a string and make an auth endpoint
// the signer of whole API requests. Every string an auth endpoint signs has a ':' right after the
// client's part; no query value the API takes needs one.
//
// Called by the API after routing (it needs the endpoint's parameters), before acting.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/request.h"

namespace raptor::http {

// The signature's own parameters, taken by every endpoint.
constexpr std::string_view kSignatureParams[] = {"auth_key", "auth_timestamp", "auth_version", "auth_signature",
                                                 "body_md5"};

// A parameter outside the form, and why (a sentence naming it).
struct QueryFault {
  std::string parameter;
  std::string message;
};

// nullopt when each parameter of `req` is one of kSignatureParams or `endpoint_params`, spelled
// exactly so (lower case), given once, with a decoded value free of control characters, '&' and
// ':'. Else the first parameter that is not.
std::optional<QueryFault> check_query_form(const Request& req, const std::vector<std::string_view>& endpoint_params);

}  // namespace raptor::http
