// The canonical four-tuple: endpoint `a` is the lower (ip, port), so both directions of a
// connection map to one key. A fixed-size value with a cheap hash: one lookup per packet.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "lastack/core/ip_address.h"

namespace lastack::tcp {

// Direction of a packet relative to the canonical tuple.
enum class Dir : std::uint8_t { a_to_b = 0, b_to_a = 1 };

struct FourTuple {
  IpAddress a_ip;
  IpAddress b_ip;
  std::uint16_t a_port = 0;
  std::uint16_t b_port = 0;

  bool operator==(const FourTuple&) const = default;

  // Canonical key for a packet src→dst and the packet's direction in it.
  static FourTuple from_packet(const IpAddress& src, std::uint16_t sport, const IpAddress& dst,
                               std::uint16_t dport, Dir& dir) {
    FourTuple t;
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
  std::size_t operator()(const FourTuple& t) const noexcept {
    // FNV-1a over the address bytes and ports; fast and good enough for a per-run table.
    std::uint64_t h = 1469598103934665603ULL;
    auto mix = [&h](const std::uint8_t* p, std::size_t n) {
      for (std::size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ULL;
    };
    const std::size_t n = t.a_ip.version == 6 ? 16 : 4;
    mix(t.a_ip.bytes.data(), n);
    mix(t.b_ip.bytes.data(), n);
    const std::uint32_t ports = (std::uint32_t{t.a_port} << 16) | t.b_port;
    mix(reinterpret_cast<const std::uint8_t*>(&ports), sizeof ports);
    return static_cast<std::size_t>(h ^ (h >> 29));
  }
};

}  // namespace lastack::tcp
