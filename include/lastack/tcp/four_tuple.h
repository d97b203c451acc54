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
  // Word-wise multiply-xorshift over the addresses and ports: one lookup per packet, so the
  // hash must be a handful of instructions, not a byte loop.
  std::size_t operator()(const FourTuple& t) const noexcept {
    auto mix = [](std::uint64_t h, std::uint64_t v) {
      h ^= v;
      h *= 0x9E3779B97F4A7C15ULL;
      return h ^ (h >> 32);
    };
    std::uint64_t w[4];
    std::memcpy(w, t.a_ip.bytes.data(), 16);
    std::memcpy(w + 2, t.b_ip.bytes.data(), 16);
    std::uint64_t h = mix(0x243F6A8885A308D3ULL, (std::uint64_t{t.a_port} << 16) | t.b_port);
    for (std::uint64_t v : w) h = mix(h, v);
    return static_cast<std::size_t>(h);
  }
};

}  // namespace lastack::tcp
