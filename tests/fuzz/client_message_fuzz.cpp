// libFuzzer target for what a WebSocket client sends (issue 20): pusher:* events, client events,
// channel_data and user_data, read by protocol/messages, channel_data and user_data and acted on
// by the engine. scripts/fuzz builds and runs it; tests/fuzz/corpus/client_message/ holds seeds.
//
// Input: lines, each one action of a session of two connections of app 3 on a fresh engine:
//   a<frame>  connection A sends the text frame      b<frame>  connection B sends it
//   t         a second passes (tick: pings, limits)   r         B closes and a new B opens
// A frame's literal $AUTH becomes the signature its subscription or sign-in needs, so that the
// fuzzer reaches the code behind the signature check (presence rosters, sign-in, watchlists).
// Checked: every frame raptor queues is a JSON object; the parsers' views and limits hold.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "protocol/channel_data.h"
#include "protocol/messages.h"
#include "protocol/signature.h"
#include "protocol/user_data.h"

using namespace raptor;

namespace {

constexpr const char* kTarget = "client_message_fuzz";
constexpr std::string_view kAuthMark = "$AUTH";

// The message's fields point into its text; the parsers of its data strings keep their limits.
void check_parsers(std::string_view text) {
  messages::ClientMessage m;
  if (!messages::parse_client_message(text, m)) return;
  FUZZ_CHECK(fuzz::inside(m.data_text, text));  // the other views are into m.root
  const App app = fuzz::fuzz_app();
  if (m.channel_data) {
    ChannelData cd;
    if (!parse_channel_data(*m.channel_data, {app.max_user_id_length, app.max_user_info_bytes}, cd)) {
      FUZZ_CHECK(!cd.user_id.empty() && cd.user_id.size() <= app.max_user_id_length);
      FUZZ_CHECK(cd.user_info.size() <= app.max_user_info_bytes);
    }
  }
  if (m.user_data) {
    UserData ud;
    if (!parse_user_data(*m.user_data, {app.max_user_id_length, app.max_user_info_bytes}, ud)) {
      FUZZ_CHECK(!ud.id.empty() && ud.id.size() <= app.max_user_id_length);
      FUZZ_CHECK(ud.watchlist.size() <= kMaxWatchlistLength);
    }
  }
}

// `frame` with $AUTH replaced by "<key>:<hmac>" over what its data asks to be signed.
std::string signed_frame(std::string frame, const Connection& c) {
  size_t at = frame.find(kAuthMark);
  if (at == std::string::npos) return frame;
  messages::ClientMessage m;
  if (!messages::parse_client_message(frame, m)) return frame;
  std::string to_sign =
      m.event == "pusher:signin"
          ? signature::signin_string_to_sign(c.socket_id(), m.user_data.value_or(""))
          : signature::subscription_string_to_sign(c.socket_id(), m.data_channel.value_or(""), m.channel_data);
  const App& app = c.app();
  std::string auth = app.key + ":" + signature::hmac_sha256_hex(app.secret, to_sign);
  frame.replace(at, kAuthMark.size(), auth);
  return frame;
}

void check_queue(Connection& c) {
  while (c.has_pending()) {
    FUZZ_CHECK(fuzz::is_json_object(std::string(c.front()->text())));
    c.pop_front();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  fuzz::EngineFixture f;
  const App& app = f.apps.front();
  Connection* a = f.engine.open(app, nullptr);
  Connection* b = f.engine.open(app, nullptr);
  while (!input.empty()) {
    size_t end = input.find('\n');
    std::string_view line = input.substr(0, end);
    input = end == std::string_view::npos ? std::string_view() : input.substr(end + 1);
    if (line.empty()) continue;
    char action = line[0];
    std::string_view frame = line.substr(1);
    if (action == 'a' || action == 'b') {
      Connection* c = action == 'a' ? a : b;
      check_parsers(frame);
      if (!c->closing()) f.engine.on_message(*c, signed_frame(std::string(frame), *c));
    } else if (action == 't') {
      f.now_ms += 1000;
      f.engine.tick();
    } else if (action == 'r') {
      f.engine.on_closed(b);
      b = f.engine.open(app, nullptr);
    }
    check_queue(*a);
    check_queue(*b);
  }
  f.engine.on_closed(a);
  f.engine.on_closed(b);
  return 0;
}
