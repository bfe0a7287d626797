// An outgoing WebSocket message, serialized once and shared by every recipient.
// The bytes sit behind kFrameHeadroom writable bytes, where the transport writes the frame
// header in place (libwebsockets' LWS_PRE); net/ checks that the headroom is large enough.
// Frames are used on one thread only: the in-place header write is not thread-safe.
#pragma once
#include <cstddef>
#include <memory>
#include <string_view>

namespace raptor {

constexpr size_t kFrameHeadroom = 16;

class Frame {
 public:
  static std::shared_ptr<Frame> make(std::string_view payload);

  unsigned char* payload() { return bytes_.get() + kFrameHeadroom; }
  std::string_view text() const {
    return {reinterpret_cast<const char*>(bytes_.get() + kFrameHeadroom), size_};
  }
  size_t size() const { return size_; }

 private:
  Frame(std::unique_ptr<unsigned char[]> bytes, size_t size) : bytes_(std::move(bytes)), size_(size) {}
  std::unique_ptr<unsigned char[]> bytes_;
  size_t size_;
};

using FramePtr = std::shared_ptr<Frame>;

}  // namespace raptor
