// Builds exact frames for tests, samples and benchmarks: Ethernet (optionally VLAN-tagged),
// Linux SLL/SLL2, raw IP or BSD loopback around IPv4/IPv6 around TCP, with correct checksums.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "lastack/core/ip_address.h"

namespace lastack::synth {

enum class Link : std::uint8_t { ethernet, linux_sll, linux_sll2, raw_ip, null_loopback };

struct TcpSegmentSpec {
  IpAddress src;
  IpAddress dst;
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  std::uint8_t flags = 0;  // decode::tcp_flag bits
  std::uint16_t window = 64240;
  std::uint32_t payload_len = 0;  // payload bytes (filled with a deterministic pattern)
  std::uint8_t ttl = 64;          // IPv4 TTL / IPv6 hop limit
  std::uint16_t ip_id = 0;
  std::optional<std::uint16_t> mss;
  std::optional<std::uint8_t> wscale;
  bool sack_permitted = false;
  std::optional<std::uint32_t> ts_val;  // with ts_ecr: adds the RFC 7323 timestamps option
  std::uint32_t ts_ecr = 0;
  std::vector<std::uint8_t> raw_options;  // appended verbatim after the structured options
                                          // (then padded with NOP/EOL to a multiple of 4)
  std::vector<std::uint16_t> vlan_ids;    // Ethernet only: 802.1Q tags, outermost first
};

// The whole frame for the given link type. IPv4 or IPv6 follows src.version.
std::vector<std::uint8_t> build_frame(const TcpSegmentSpec& spec, Link link = Link::ethernet);

// LINKTYPE_* value of a Link.
std::uint32_t link_type_of(Link link);

}  // namespace lastack::synth
