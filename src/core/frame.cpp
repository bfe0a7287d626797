#include "core/frame.h"

#include <cstring>

namespace raptor {

std::shared_ptr<Frame> Frame::make(std::string_view payload) {
  std::unique_ptr<unsigned char[]> bytes(new unsigned char[kFrameHeadroom + payload.size()]);
  if (!payload.empty()) memcpy(bytes.get() + kFrameHeadroom, payload.data(), payload.size());
  return std::shared_ptr<Frame>(new Frame(std::move(bytes), payload.size()));
}

}  // namespace raptor
