#include "protocol/channel_kind.h"

#include "common/text.h"

namespace raptor {

const ChannelKind& channel_kind(std::string_view name) {
  const ChannelKind* found = &kChannelKinds[0];
  for (const ChannelKind& kind : kChannelKinds)
    if (kind.prefix.size() > found->prefix.size() && starts_with(name, kind.prefix)) found = &kind;
  return *found;
}

bool is_cache_channel(std::string_view name) {
  const ChannelKind& kind = channel_kind(name);
  return kind.cache && starts_with(name.substr(kind.prefix.size()), "cache-");
}

}  // namespace raptor
