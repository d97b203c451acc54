// Private to the capture layer: the record readers behind open_capture(). Each parses its file
// header from `buffer` (positioned at the magic) and returns a ready PacketSource.
#pragma once

#include <cstdint>
#include <memory>

#include "capture/byte_stream.h"
#include "lastack/capture/packet_source.h"

namespace lastack::capture {

// First four bytes of each format, as they appear in the file.
inline constexpr std::uint32_t pcap_magic_us = 0xa1b2c3d4;  // µs timestamps
inline constexpr std::uint32_t pcap_magic_ns = 0xa1b23c4d;  // ns timestamps
inline constexpr std::uint32_t pcapng_shb_type = 0x0a0d0d0a;

Result<std::unique_ptr<PacketSource>> open_pcap(InputBuffer buffer, InputInfo info,
                                                std::uint32_t input);
Result<std::unique_ptr<PacketSource>> open_pcapng(InputBuffer buffer, InputInfo info,
                                                  std::uint32_t input);

}  // namespace lastack::capture
