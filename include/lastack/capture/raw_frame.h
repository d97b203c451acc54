// One captured record as the reader hands it out.
#pragma once

#include <cstdint>

#include "lastack/core/byte_cursor.h"
#include "lastack/core/timestamp.h"

namespace lastack::capture {

// LINKTYPE_* values from the tcpdump.org link-layer header registry.
namespace linktype {
inline constexpr std::uint32_t null_loopback = 0;  // BSD loopback (host-order AF)
inline constexpr std::uint32_t ethernet = 1;
inline constexpr std::uint32_t raw = 101;       // raw IPv4/IPv6
inline constexpr std::uint32_t raw_dlt12 = 12;  // DLT_RAW as written by some BSDs
inline constexpr std::uint32_t raw_dlt14 = 14;  // DLT_RAW on OpenBSD
inline constexpr std::uint32_t loop = 108;      // OpenBSD loopback (network-order AF)
inline constexpr std::uint32_t linux_sll = 113;
inline constexpr std::uint32_t nflog = 239;
inline constexpr std::uint32_t ipv4 = 228;
inline constexpr std::uint32_t ipv6 = 229;
inline constexpr std::uint32_t linux_sll2 = 276;
}  // namespace linktype

// Name as tcpdump/libpcap print it ("EN10MB", "LINUX_SLL2", …) or "LINKTYPE_<n>".
const char* linktype_name(std::uint32_t link_type);

// LIFETIME: `bytes` points into the reader's buffer and is valid only until the next call to
// PacketSource::next(). Everything after decode copies the values it keeps.
struct RawFrame {
  std::uint32_t input = 0;         // index of the input in this run
  std::uint64_t frame_no = 0;      // 1-based within its input, as Wireshark numbers frames
  Timestamp ts;                    // capture time (pcapng: resolution and if_tsoffset applied)
  std::uint32_t link_type = 0;     // LINKTYPE_* of the record's interface
  std::uint32_t interface_id = 0;  // pcapng interface id; 0 for classic pcap
  std::uint32_t orig_len = 0;      // length on the wire
  std::uint64_t offset = 0;        // byte offset of the record in its (decompressed) input
  ByteView bytes;                  // captured bytes (caplen of them)
};

}  // namespace lastack::capture
