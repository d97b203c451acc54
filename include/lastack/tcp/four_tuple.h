// The canonical four-tuple: endpoint `a` is the lower (ip, port), so both directions of a
// connection map to one key, plus the scope that keeps equal addresses and ports on different
// links apart. A fixed-size, trivially copyable value with a cheap hash: one lookup per packet.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "lastack/core/ip_address.h"

namespace lastack::tcp {

// Direction of a packet relative to the canonical tuple.
enum class Dir : std::uint8_t { a_to_b = 0, b_to_a = 1 };

struct FourTuple {
  IpAddress a_ip;
  IpAddress b_ip;
  std::uint16_t a_port = 0;
  std::uint16_t b_port = 0;
  // Where the traffic was seen (README: Inputs). Bits 0-11: the innermost 802.1Q/802.1ad VLAN
  // id, 0 = untagged; a VLAN is its own layer-2 network, so the same addresses and ports on two
  // VLANs are two connections. Bits 12 and up: set by the flow table only, for traffic that a
  // second capture interface carried separately (kScopeInterfaceShift); 0 = the four-tuple's
  // first interface, or the same traffic seen on another one.
  std::uint32_t scope = 0;

  static constexpr std::uint32_t kScopeVlanMask = 0x0FFF;
  static constexpr int kScopeInterfaceShift = 12;

  bool operator==(const FourTuple&) const = default;

  [[nodiscard]] std::uint16_t vlan() const {
    return static_cast<std::uint16_t>(scope & kScopeVlanMask);
  }

  // Canonical key for a packet src→dst seen on VLAN `vlan` (0 = untagged), and the packet's
  // direction in it.
  static FourTuple from_packet(const IpAddress& src, std::uint16_t sport, const IpAddress& dst,
                               std::uint16_t dport, Dir& dir, std::uint16_t vlan = 0) {
    FourTuple t;
    t.scope = vlan & kScopeVlanMask;
    const bool src_is_a = (src < dst) || (src == dst && sport <= dport);
    if (src_is_a) {
      t.a_ip = src, t.a_port = sport, t.b_ip = dst, t.b_port = dport;
      dir = Dir::a_to_b;
    } else {
      t.a_ip = dst, t.a_port = dport, t.b_ip = src, t.b_port = sport;
      dir = Dir::b_to_a;
    }
    return t;
  }
};

struct FourTupleHash {
  // Word-wise multiply-xorshift over the addresses, ports and scope: one lookup per packet, so
  // the hash must be a handful of instructions, not a byte loop. The scope shares the ports'
  // word: no extra round.
  std::size_t operator()(const FourTuple& t) const noexcept {
    auto mix = [](std::uint64_t h, std::uint64_t v) {
      h ^= v;
      h *= 0x9E3779B97F4A7C15ULL;
      return h ^ (h >> 32);
    };
    std::uint64_t w[4];
    std::memcpy(w, t.a_ip.bytes.data(), 16);
    std::memcpy(w + 2, t.b_ip.bytes.data(), 16);
    std::uint64_t h = mix(0x243F6A8885A308D3ULL, (std::uint64_t{t.scope} << 32) |
                                                     (std::uint64_t{t.a_port} << 16) | t.b_port);
    for (std::uint64_t v : w) h = mix(h, v);
    return static_cast<std::size_t>(h);
  }
};

static_assert(std::is_trivially_copyable_v<FourTuple>);

}  // namespace lastack::tcp
