// What the libFuzzer targets share: the invariant check that aborts (so that libFuzzer keeps the
// input), and an Engine with one app and a transport that records nothing, for the targets that
// feed outside bytes through the engine (client frames, HTTP API requests).
#pragma once
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/engine.h"
#include "core/hub.h"
#include "protocol/json.h"

namespace raptor::fuzz {

[[noreturn]] inline void fail(const char* target, const char* what) {
  fprintf(stderr, "%s: invariant broken: %s\n", target, what);
  abort();
}
#define FUZZ_CHECK(cond) ((cond) ? (void)0 : ::raptor::fuzz::fail(kTarget, #cond))

// The app of the seeds: id 3, the Pusher docs' example key and secret.
inline App fuzz_app() { return App{"3", "278d425bdf160c739803", "7ad3773142a6692b25b8"}; }

// Whether `text` is a whole JSON object (the shape of every frame and API body raptor sends).
inline bool is_json_object(const std::string& text) {
  const char* end = nullptr;
  json::Ptr root(cJSON_ParseWithOpts(text.c_str(), &end, 1));
  return root && cJSON_IsObject(root.get());
}

// Whether the view `part` lies within `whole` (a parser's view into its input).
inline bool inside(std::string_view part, std::string_view whole) {
  return part.empty() || (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

struct NullTransport : Transport {
  void wake(Connection&) override {}
};

// The app, one for the process, as a server's apps live as long as it does: the process-wide
// channel statistics (metrics/channel_stats.h) are kept per app, and a new App per input added
// an app to them whenever the input published: the input left more allocations than it freed,
// so libFuzzer ran its leak check (a scan of the whole heap), about half of a long run's time.
inline const AppList& fuzz_apps() {
  static const AppList apps{fuzz_app()};
  return apps;
}

// A fresh engine per input (state from one input must not explain a crash on the next), on a
// fake clock the target moves.
struct EngineFixture {
  int64_t now_ms = 1'000'000;
  NullTransport transport;
  const AppList& apps = fuzz_apps();
  Hub hub{1};
  Engine engine{apps, EngineLimits{}, transport, hub, 0, [this] { return now_ms; }};
};

}  // namespace raptor::fuzz
