#include "core/frame_queue.h"

#include <catch2/catch.hpp>
#include <string>

using raptor::Frame;
using raptor::FrameQueue;

TEST_CASE("FrameQueue keeps order through pushes, pops and compaction", "[frame_queue]") {
  FrameQueue q;
  CHECK(q.empty());
  int next_in = 0, next_out = 0;
  // Never fully drained: two in, one out, so spent slots pile up and get compacted.
  for (int round = 0; round < 500; ++round) {
    q.push(Frame::make(std::to_string(next_in++)));
    q.push(Frame::make(std::to_string(next_in++)));
    REQUIRE(q.front()->text() == std::to_string(next_out));
    q.pop();
    ++next_out;
  }
  CHECK(q.size() == size_t(next_in - next_out));
  while (!q.empty()) {
    REQUIRE(q.front()->text() == std::to_string(next_out++));
    q.pop();
  }
  CHECK(next_out == next_in);
}

TEST_CASE("FrameQueue releases its frames when popped and cleared", "[frame_queue]") {
  FrameQueue q;
  auto shared = Frame::make("x");
  q.push(shared);
  q.push(shared);
  CHECK(shared.use_count() == 3);
  q.pop();
  CHECK(shared.use_count() == 2);
  q.clear();
  CHECK(shared.use_count() == 1);
  CHECK(q.empty());
  CHECK(q.size() == 0);
}
