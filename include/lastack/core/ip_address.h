// An IPv4 or IPv6 address as a small value (no allocation), comparable and hashable.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <cstring>
#include <string>

namespace lastack {

struct IpAddress {
  std::uint8_t version = 0;              // 4 or 6; 0 = unset
  std::array<std::uint8_t, 16> bytes{};  // IPv4 uses the first 4 bytes, the rest stay zero

  static IpAddress v4(const std::uint8_t* p) {
    IpAddress a;
    a.version = 4;
    std::memcpy(a.bytes.data(), p, 4);
    return a;
  }
  static IpAddress v6(const std::uint8_t* p) {
    IpAddress a;
    a.version = 6;
    std::memcpy(a.bytes.data(), p, 16);
    return a;
  }
  // The defaulted comparisons (version, then bytes lexicographically), written as two 64-bit
  // word compares: every packet's four-tuple is canonicalised with them, and the defaulted
  // array comparison is a memcmp call.
  bool operator==(const IpAddress& o) const {
    return version == o.version && word(0) == o.word(0) && word(1) == o.word(1);
  }
  std::strong_ordering operator<=>(const IpAddress& o) const {
    if (version != o.version) return version <=> o.version;
    if (word(0) != o.word(0)) return word(0) <=> o.word(0);
    return word(1) <=> o.word(1);
  }

 private:
  // Bytes 8i..8i+7 as a big-endian number, so numeric order is lexicographic byte order.
  [[nodiscard]] std::uint64_t word(std::size_t i) const {
    std::uint64_t w = 0;
    std::memcpy(&w, bytes.data() + 8 * i, 8);
    return __builtin_bswap64(w);
  }
};

// "10.0.0.1" or RFC 5952 canonical IPv6 ("2001:db8::1").
std::string to_string(const IpAddress& a);
// The same into a caller's buffer (no allocation; for bulk writers); returns the length.
using IpBuffer = std::array<char, 48>;
std::size_t format_ip(const IpAddress& a, IpBuffer& out);
// "10.0.0.1:80" or "[2001:db8::1]:443".
std::string format_endpoint(const IpAddress& a, std::uint16_t port);
bool parse_ip(std::string_view text, IpAddress& out);

}  // namespace lastack
