// Private interface between the decode stages: link layer → IP → TCP. Each stage reads only
// through bounds-checked views and writes its verdict into the DecodedPacket; nothing allocates.
#pragma once

#include <cstdint>

#include "lastack/core/byte_cursor.h"
#include "lastack/decode/decoded_packet.h"

namespace lastack::decode::detail {

// Stacked 802.1Q/802.1ad tags and MPLS labels followed before giving up (each counted
// separately). Real networks use two or three; more is a crafted or corrupt frame.
inline constexpr int kMaxLinkTags = 8;
// IPv6 extension headers followed before giving up (RFC 8200 §4.1 sets no limit; RFC 7112 and
// RFC 9098 note that long chains are an attack vector, so a fixed cap keeps decode bounded).
inline constexpr int kMaxIpv6ExtHeaders = 16;

inline void set_malformed(DecodedPacket& out, Malformed why) {
  out.outcome = Outcome::malformed;
  out.malformed = why;
}

// The IP stages take `bytes` (the captured IP packet, possibly followed by link padding) and
// `missing`: how many bytes of the frame the capture cut off (orig_len - caplen), so that
// bytes.size() + missing is the packet's length on the wire.
//
// IPv4 or IPv6 chosen by the version nibble (raw IP, MPLS payloads).
void decode_ip_by_version(ByteView bytes, std::size_t missing, DecodedPacket& out);
void decode_ipv4(ByteView bytes, std::size_t missing, DecodedPacket& out);
void decode_ipv6(ByteView bytes, std::size_t missing, DecodedPacket& out);

// `segment` is the captured part of the IP payload (already clipped to the IP length fields);
// `ip_payload_len` is the payload length the IP header declares.
void decode_tcp(ByteView segment, std::uint32_t ip_payload_len, DecodedPacket& out);

}  // namespace lastack::decode::detail
