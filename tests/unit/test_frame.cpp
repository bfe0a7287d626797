// core/frame: a payload copied once behind writable headroom for the transport's header.
#include "core/frame.h"

#include <string>

#include "support.h"

using namespace raptor;

TEST_CASE("Frame::make copies the payload behind kFrameHeadroom bytes", "[frame]") {
  std::string text = "{\"event\":\"x\"}";
  FramePtr f = Frame::make(text);
  text[0] = '!';  // the frame owns its copy
  CHECK(f->text() == "{\"event\":\"x\"}");
  CHECK(f->size() == 13);
  CHECK(reinterpret_cast<const char*>(f->payload()) == f->text().data());
  // The headroom in front of the payload is writable (the transport writes its header there).
  unsigned char* header = f->payload() - kFrameHeadroom;
  for (size_t i = 0; i < kFrameHeadroom; ++i) header[i] = 0xAB;
  CHECK(f->text() == "{\"event\":\"x\"}");
}

// BUG (found by UBSan): frame.cpp calls memcpy(dst, payload.data(), 0) and a default
// std::string_view has data() == nullptr; passing null to memcpy is undefined even for 0 bytes,
// and the sanitizer build aborts here ("null pointer passed as argument 2").
TEST_CASE("Frame::make of an empty payload", "[frame]") {
  FramePtr f = Frame::make(std::string_view());
  CHECK(f->size() == 0);
  CHECK(f->text().empty());
  FramePtr g = Frame::make("");
  CHECK(g->size() == 0);
}

TEST_CASE("Frame keeps binary bytes, NULs included", "[frame]") {
  std::string bytes("a\0b\xff", 4);
  FramePtr f = Frame::make(bytes);
  CHECK(f->size() == 4);
  CHECK(std::string(f->text()) == bytes);
}
