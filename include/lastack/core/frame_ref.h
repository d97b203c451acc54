// Where a frame is: which input of the run and its 1-based number there (as Wireshark shows).
#pragma once

#include <compare>
#include <cstdint>

namespace lastack {

struct FrameRef {
  std::uint32_t input = 0;
  std::uint64_t frame_no = 0;
  auto operator<=>(const FrameRef&) const = default;
};

}  // namespace lastack
