// IPv4 (RFC 791) and IPv6 (RFC 8200) down to the TCP segment. No reassembly: a fragment is
// counted, not analysed.
//
// Length rules: the IP header says how long the packet is. The capture may hold less (snaplen)
// or more (Ethernet padding to 60 bytes), so the captured part handed to TCP is clipped to the
// declared length. When the header claims more than the frame had even on the wire (captured +
// cut-off bytes), the claim is impossible and the wire length wins, as Wireshark does ("IPv4
// total length exceeds packet length"): analysis must not credit data that never existed.
#include <algorithm>
#include <cstdint>

#include "decode/layers.h"

namespace lastack::decode::detail {
namespace {

constexpr std::uint8_t kProtoTcp = 6;

std::size_t clip(std::size_t captured, std::size_t declared) {
  return std::min(captured, declared);
}

// The declared length, or the packet's wire length when the declaration exceeds it.
std::size_t wire_clamp(std::size_t declared, std::size_t captured, std::size_t missing) {
  return std::min(declared, captured + missing);
}

// IPv6 extension header kinds decode walks through (RFC 8200 §4, IANA "IPv6 Extension Header
// Types"). ESP (50) is not walkable: what follows it is encrypted.
namespace nh {
constexpr std::uint8_t hop_by_hop = 0;
constexpr std::uint8_t routing = 43;
constexpr std::uint8_t fragment = 44;
constexpr std::uint8_t auth = 51;
constexpr std::uint8_t dest_opts = 60;
constexpr std::uint8_t mobility = 135;
constexpr std::uint8_t hip = 139;
constexpr std::uint8_t shim6 = 140;
}  // namespace nh

// Headers with the generic layout: next header, length in 8-octet units not counting the first.
bool is_generic_ext_header(std::uint8_t next) {
  return next == nh::hop_by_hop || next == nh::routing || next == nh::dest_opts ||
         next == nh::mobility || next == nh::hip || next == nh::shim6;
}

}  // namespace

void decode_ip_by_version(ByteView bytes, std::size_t missing, DecodedPacket& out) {
  switch (bytes[0] >> 4) {
    case 4: return decode_ipv4(bytes, missing, out);
    case 6: return decode_ipv6(bytes, missing, out);
    default: return set_malformed(out, Malformed::ip_bad_version);
  }
}

void decode_ipv4(ByteView bytes, std::size_t missing, DecodedPacket& out) {
  constexpr std::size_t kMinHeader = 20;
  if (bytes.size() < kMinHeader) return set_malformed(out, Malformed::ipv4_truncated);
  const std::uint8_t* p = bytes.data();
  if ((p[0] >> 4) != 4) return set_malformed(out, Malformed::ip_bad_version);
  out.ip_version = 4;
  out.ttl = p[8];
  out.ip_id = load_u16be(p + 4);
  out.src = IpAddress::v4(p + 12);
  out.dst = IpAddress::v4(p + 16);

  // Options (RFC 791 §3.1) are skipped via IHL; none of them matter to TCP state.
  const std::size_t header_len = std::size_t{p[0] & 0x0Fu} * 4;
  if (header_len < kMinHeader || header_len > bytes.size()) {
    return set_malformed(out, Malformed::ipv4_bad_ihl);
  }
  std::size_t total_len = load_u16be(p + 2);
  // Total length 0 appears when the capture point sits above TCP segmentation offload (the NIC
  // fills it in later): the packet is as long as what was captured.
  if (total_len == 0) {
    total_len = bytes.size();
  } else if (total_len < header_len) {
    return set_malformed(out, Malformed::ipv4_bad_length);
  }
  total_len = wire_clamp(total_len, bytes.size(), missing);
  // Any fragment, first one included: without reassembly its TCP length is not the segment's.
  const std::uint16_t frag = load_u16be(p + 6);
  constexpr std::uint16_t kMoreFragments = 0x2000;
  constexpr std::uint16_t kOffsetMask = 0x1FFF;
  if ((frag & (kMoreFragments | kOffsetMask)) != 0) {
    out.outcome = Outcome::fragment;
    return;
  }
  if (p[9] != kProtoTcp) {
    out.outcome = Outcome::not_tcp;  // includes ICMP errors quoting a TCP header
    return;
  }
  const std::size_t captured = clip(bytes.size(), total_len);
  decode_tcp(bytes.subspan(header_len, captured - header_len),
             static_cast<std::uint32_t>(total_len - header_len), out);
}

void decode_ipv6(ByteView bytes, std::size_t missing, DecodedPacket& out) {
  constexpr std::size_t kHeader = 40;
  if (bytes.size() < kHeader) return set_malformed(out, Malformed::ipv6_truncated);
  const std::uint8_t* p = bytes.data();
  if ((p[0] >> 4) != 6) return set_malformed(out, Malformed::ip_bad_version);
  out.ip_version = 6;
  out.ttl = p[7];
  out.src = IpAddress::v6(p + 8);
  out.dst = IpAddress::v6(p + 24);

  // Payload length 0 means a jumbogram (RFC 2675) or a capture above segmentation offload; we do
  // not parse the jumbo option and take the captured length instead.
  std::size_t payload_len = load_u16be(p + 4);
  if (payload_len == 0) payload_len = bytes.size() - kHeader;
  payload_len = wire_clamp(payload_len, bytes.size() - kHeader, missing);
  const ByteView payload = bytes.subspan(kHeader, clip(bytes.size() - kHeader, payload_len));

  std::uint8_t next = p[6];
  std::size_t off = 0;  // start of the current header within `payload`
  for (int headers = 0;; ++headers) {
    if (next == kProtoTcp) {
      return decode_tcp(payload.subspan(off), static_cast<std::uint32_t>(payload_len - off), out);
    }
    std::size_t ext_len = 0;
    if (is_generic_ext_header(next)) {
      if (payload.size() - off < 2) return set_malformed(out, Malformed::ipv6_bad_ext_header);
      ext_len = (std::size_t{payload[off + 1]} + 1) * 8;
    } else if (next == nh::auth) {
      // RFC 4302 §2.2: AH length is in 4-octet units minus 2.
      if (payload.size() - off < 2) return set_malformed(out, Malformed::ipv6_bad_ext_header);
      ext_len = (std::size_t{payload[off + 1]} + 2) * 4;
    } else if (next == nh::fragment) {
      ext_len = 8;
    } else {
      out.outcome = Outcome::not_tcp;  // UDP, ICMPv6, ESP, no next header (59), …
      return;
    }
    if (headers == kMaxIpv6ExtHeaders || ext_len > payload.size() - off) {
      return set_malformed(out, Malformed::ipv6_bad_ext_header);
    }
    if (next == nh::fragment) {
      // RFC 6946: an "atomic fragment" (offset 0, M clear) is a whole packet and is processed
      // as such; a real fragment is counted and left alone.
      const std::uint16_t offset_m = load_u16be(payload.data() + off + 2);
      if ((offset_m & 0xFFF9u) != 0) {
        out.outcome = Outcome::fragment;
        return;
      }
    }
    next = payload[off];
    off += ext_len;
  }
}

}  // namespace lastack::decode::detail
