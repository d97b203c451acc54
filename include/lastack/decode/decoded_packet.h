// What decode extracts from a frame: the IP and TCP header fields the analysis needs, as
// values. A malformed packet is a counted outcome, never an error that stops the run.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "lastack/capture/raw_frame.h"
#include "lastack/core/ip_address.h"
#include "lastack/core/seq_num.h"

namespace lastack::decode {

namespace tcp_flag {
inline constexpr std::uint8_t fin = 0x01;
inline constexpr std::uint8_t syn = 0x02;
inline constexpr std::uint8_t rst = 0x04;
inline constexpr std::uint8_t psh = 0x08;
inline constexpr std::uint8_t ack = 0x10;
inline constexpr std::uint8_t urg = 0x20;
inline constexpr std::uint8_t ece = 0x40;
inline constexpr std::uint8_t cwr = 0x80;
}  // namespace tcp_flag

struct TcpOptions {
  bool has_mss = false;
  bool has_wscale = false;
  bool sack_permitted = false;
  bool has_timestamps = false;
  bool has_fast_open = false;  // TFO option (kind 34) or experimental 254/0xF989
  std::uint8_t sack_blocks = 0;
  std::uint16_t mss = 0;
  std::uint8_t wscale = 0;  // as sent (values > 14 are kept; RFC 7323 §2.3 says use 14)
  std::uint32_t ts_val = 0;
  std::uint32_t ts_ecr = 0;
};

struct TcpHeader {
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  SeqNum seq;
  SeqNum ack;
  std::uint8_t flags = 0;
  std::uint8_t header_len = 0;  // data offset * 4
  std::uint16_t window = 0;     // raw, unscaled
  std::uint16_t checksum = 0;
  std::uint32_t payload_len = 0;       // from the IP length fields, not from caplen
  std::uint32_t captured_payload = 0;  // payload bytes present in the capture (<= payload_len)
  bool options_complete = true;        // false when snaplen cut the options
  TcpOptions options;
};

// Why a frame was not analysed as TCP. `none` = a TCP segment was decoded.
enum class Outcome : std::uint8_t {
  tcp,               // decoded; fields valid
  not_ip,            // ARP, LLDP, … (counted, not an anomaly)
  not_tcp,           // UDP, ICMP, … (counted)
  fragment,          // IPv4/IPv6 fragment (no reassembly; counted)
  unsupported_link,  // a link type decode does not handle
  malformed,         // see Malformed for the reason
};

enum class Malformed : std::uint8_t {
  none,
  link_truncated,   // frame shorter than its link header
  vlan_too_deep,    // more stacked VLAN/MPLS labels than we follow
  ipv4_truncated,   // fewer than 20 bytes of IPv4 header captured
  ipv4_bad_ihl,     // IHL < 5, or beyond the captured bytes
  ipv4_bad_length,  // total length < header length (0 is accepted as TSO and uses caplen)
  ipv6_truncated,
  ipv6_bad_ext_header,  // extension header chain runs past the capture or is too long
  ip_bad_version,
  tcp_truncated,    // fewer than 20 bytes of TCP header
  tcp_bad_offset,   // data offset < 5 or beyond the IP payload
  tcp_bad_options,  // an option with length 0/1, past the header, or a wrong fixed length
  count_,
};

std::string_view to_string(Outcome o);
std::string_view to_string(Malformed m);

struct DecodedPacket {
  Outcome outcome = Outcome::not_ip;
  Malformed malformed = Malformed::none;
  std::uint8_t ip_version = 0;
  IpAddress src;
  IpAddress dst;
  std::uint8_t ttl = 0;       // IPv4 TTL or IPv6 hop limit
  std::uint16_t ip_id = 0;    // IPv4 identification (0 for IPv6)
  std::uint16_t vlan_id = 0;  // innermost 802.1Q/802.1ad VLAN id (12 bits), 0 when untagged
  TcpHeader tcp;
};

// Decodes a frame of any supported link type down to TCP. Never throws, never reads outside
// frame.bytes. `out` is overwritten completely.
void decode_frame(const capture::RawFrame& frame, DecodedPacket& out);

// The LINKTYPE_* values decode_frame handles (frames of any other are `unsupported_link`).
std::span<const std::uint32_t> supported_link_types();

}  // namespace lastack::decode
