#include "cluster/channel_state_reply.h"

#include <algorithm>

#include "cluster/redis_reply.h"

namespace raptor::cluster {
namespace {

bool is_count(const redisReply* r) { return r->type == REDIS_REPLY_INTEGER && r->integer >= 0; }
bool is_text(const redisReply* r) { return r->type == REDIS_REPLY_STRING; }

}  // namespace

std::optional<ChannelState> channel_state_of(const ChannelQuery& query, const redisReply& reply) {
  if (reply.type != REDIS_REPLY_ARRAY) return std::nullopt;
  ChannelState state;
  switch (query.kind) {
    case ChannelQuery::Kind::Channel:
      if (reply.elements != 2 || !is_count(reply.element[0]) || !is_count(reply.element[1])) return std::nullopt;
      state.channels.push_back({query.name, uint64_t(reply.element[0]->integer), uint64_t(reply.element[1]->integer)});
      return state;
    case ChannelQuery::Kind::Users:
      for (size_t i = 0; i < reply.elements; ++i) {
        if (!is_text(reply.element[i])) return std::nullopt;
        state.users.emplace_back(text_of(reply.element[i]));
      }
      std::sort(state.users.begin(), state.users.end());
      return state;
    case ChannelQuery::Kind::List:
      if (reply.elements < 1 || reply.elements % 3 != 1 || !is_count(reply.element[0])) return std::nullopt;
      state.truncated = reply.element[0]->integer != 0;
      for (size_t i = 1; i < reply.elements; i += 3) {
        const redisReply* const* e = reply.element + i;
        if (!is_text(e[0]) || !is_count(e[1]) || !is_count(e[2])) return std::nullopt;
        state.channels.push_back({std::string(text_of(e[0])), uint64_t(e[1]->integer), uint64_t(e[2]->integer)});
      }
      std::sort(state.channels.begin(), state.channels.end(),
                [](const ChannelCounts& a, const ChannelCounts& b) { return a.name < b.name; });
      return state;
  }
  return std::nullopt;
}

}  // namespace raptor::cluster
