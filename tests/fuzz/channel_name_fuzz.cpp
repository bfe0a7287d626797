// libFuzzer target for channel names, URL resources (/channels/{type}/…) and wildcard patterns
// (issue 20): what a client puts in pusher:subscribe and what the HTTP API takes in its paths.
// scripts/fuzz builds and runs it; tests/fuzz/corpus/channel_name/ holds seeds.
//
// Input: a name (or path, or pattern), then optionally '\n' and a channel to match against.
// Checked: a valid name keeps the length limit and has an address that reads back as it; an
// address that reads as a name is that name's address; a valid pattern is found by the wildcard
// index for exactly the channels pattern_matches says it matches, and leaves the index empty
// when removed.
#include <cstdint>
#include <string>
#include <string_view>

#include "core/wildcard_index.h"
#include "fuzz_support.h"
#include "protocol/channel_pattern.h"
#include "protocol/channel_resource.h"

using namespace raptor;

namespace {

constexpr const char* kTarget = "channel_name_fuzz";

// An address and the name it reads as must map back to each other.
void check_round_trip(std::string_view name) {
  auto address = resource_of_channel(name);
  if (!address) return;
  ChannelResource back = channel_from_resource(*address, names_pattern(name));
  FUZZ_CHECK(back.valid());
  FUZZ_CHECK(back.name == name);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t split = input.find('\n');
  std::string_view name = input.substr(0, split);
  std::string_view channel = split == std::string_view::npos ? std::string_view() : input.substr(split + 1);

  if (is_valid_channel_name(name)) {
    FUZZ_CHECK(name.size() <= kMaxChannelNameLength);
    FUZZ_CHECK(!names_pattern(name));
  }
  if (is_valid_user_id(name)) FUZZ_CHECK(!name.empty());
  is_valid_channel_name(name, true);
  check_round_trip(name);

  if (name.substr(0, kChannelResourceRoot.size()) == kChannelResourceRoot) {
    for (bool patterns : {false, true}) {
      ChannelResource r = channel_from_resource(name, patterns);
      if (r.valid()) {
        if (!patterns) FUZZ_CHECK(is_valid_channel_name(r.name));
        check_round_trip(r.name);
      } else {
        FUZZ_CHECK(r.status == 400 || r.status == 404);
        FUZZ_CHECK(!r.error.empty());
      }
    }
  }

  if (!wildcard_pattern_error(name)) {
    FUZZ_CHECK(names_pattern(name));
    WildcardIndex index;
    FUZZ_CHECK(index.add(name));
    FUZZ_CHECK(!index.add(name));
    bool found = false;
    index.match(channel, [&](const std::string& p) {
      FUZZ_CHECK(p == name);
      found = true;
    });
    // Only channel names are ever published.
    if (is_valid_channel_name(channel)) FUZZ_CHECK(found == pattern_matches(name, channel));
    FUZZ_CHECK(index.remove(name));
    FUZZ_CHECK(index.size() == 0);
  }
  return 0;
}
