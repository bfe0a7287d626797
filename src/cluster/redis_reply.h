// Reading hiredis replies: the bytes of a string, status or error reply as text (a view into the
// reply, valid while it is). For cluster/'s .cpp files, the only code that includes hiredis.
#pragma once
#include <hiredis/hiredis.h>

#include <string_view>

namespace raptor::cluster {

inline std::string_view text_of(const redisReply* r) { return {r->str, size_t(r->len)}; }

}  // namespace raptor::cluster
