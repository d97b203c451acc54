#include <catch2/catch.hpp>

#include <algorithm>
#include <compare>
#include <cstdint>

#include <arpa/inet.h>

#include <array>
#include <string>

#include "lastack/core/ip_address.h"

namespace {

// format_ip writes what glibc's inet_ntop writes, NUL-terminated, and returns its length.
void check_as_inet_ntop(const lastack::IpAddress& a) {
  std::array<char, INET6_ADDRSTRLEN> want{};
  const int family = a.version == 4 ? AF_INET : AF_INET6;
  REQUIRE(inet_ntop(family, a.bytes.data(), want.data(), want.size()) != nullptr);
  lastack::IpBuffer buf;
  const std::size_t n = lastack::format_ip(a, buf);
  CHECK(std::string(buf.data(), n) == std::string(want.data()));
  CHECK(buf[n] == '\0');
}

}  // namespace

TEST_CASE("IP addresses print canonically and as endpoints", "[core][ip]") {
  lastack::IpAddress a;
  REQUIRE(lastack::parse_ip("10.0.0.1", a));
  CHECK(a.version == 4);
  CHECK(lastack::format_endpoint(a, 80) == "10.0.0.1:80");
  REQUIRE(lastack::parse_ip("2001:0db8:0000:0000:0000:0000:0000:0001", a));
  CHECK(a.version == 6);
  CHECK(lastack::to_string(a) == "2001:db8::1");
  CHECK(lastack::format_endpoint(a, 443) == "[2001:db8::1]:443");
  CHECK_FALSE(lastack::parse_ip("10.0.0.256", a));
  CHECK_FALSE(lastack::parse_ip("example.com", a));
}

TEST_CASE("IPv4 addresses print as inet_ntop prints them, for every octet value", "[core][ip]") {
  for (unsigned v = 0; v < 256; ++v) {
    lastack::IpAddress a;
    a.version = 4;
    const auto b = static_cast<std::uint8_t>(v);
    a.bytes[0] = b;
    a.bytes[1] = static_cast<std::uint8_t>(255 - v);
    a.bytes[2] = b;
    a.bytes[3] = static_cast<std::uint8_t>(v * 7);
    check_as_inet_ntop(a);
  }
}

TEST_CASE("IPv6 addresses print as inet_ntop prints them", "[core][ip]") {
  // Every pattern of zero and non-zero groups (the "::" placement), each with group values
  // that exercise leading-zero suppression, the IPv4-mapped (::ffff:a.b.c.d) and compatible
  // (::a.b.c.d) forms, and a spread of pseudo-random addresses.
  const std::array<unsigned, 6> values = {0x1, 0xffff, 0xdb8, 0x10, 0xabc0, 0x2001};
  std::uint64_t state = 0x9E3779B97F4A7C15ULL;
  auto next = [&state] {
    state ^= state << 13, state ^= state >> 7, state ^= state << 17;
    return state;
  };
  for (unsigned mask = 0; mask < 256; ++mask) {
    for (std::size_t v = 0; v < values.size(); ++v) {
      lastack::IpAddress a;
      a.version = 6;
      for (std::size_t g = 0; g < 8; ++g) {
        if ((mask >> g & 1U) == 0) continue;
        const unsigned word = values[(v + g) % values.size()];
        a.bytes[2 * g] = static_cast<std::uint8_t>(word >> 8);
        a.bytes[2 * g + 1] = static_cast<std::uint8_t>(word);
      }
      check_as_inet_ntop(a);
      for (int r = 0; r < 4; ++r) {  // the same zero pattern with random non-zero groups
        for (std::size_t g = 0; g < 8; ++g) {
          if ((mask >> g & 1U) == 0) continue;
          const auto word = static_cast<unsigned>(next() % 0xFFFF) + 1;
          a.bytes[2 * g] = static_cast<std::uint8_t>(word >> 8);
          a.bytes[2 * g + 1] = static_cast<std::uint8_t>(word);
        }
        check_as_inet_ntop(a);
      }
    }
  }
  lastack::IpAddress mapped;
  REQUIRE(lastack::parse_ip("::ffff:192.0.2.1", mapped));
  check_as_inet_ntop(mapped);
  lastack::IpBuffer buf;
  CHECK(std::string(buf.data(), lastack::format_ip(mapped, buf)) == "::ffff:192.0.2.1");
}

TEST_CASE("IP addresses order IPv4 before IPv6", "[core][ip]") {
  lastack::IpAddress v4;
  lastack::IpAddress v6;
  REQUIRE(lastack::parse_ip("255.255.255.255", v4));
  REQUIRE(lastack::parse_ip("::1", v6));
  CHECK(v4 < v6);
}

TEST_CASE("IpAddress order is version, then bytes lexicographically", "[core][ip]") {
  // The word-wise comparison must order exactly as the plain byte-wise one.
  std::uint64_t state = 0x9E3779B97F4A7C15ULL;
  auto next_byte = [&state] {
    state ^= state << 13, state ^= state >> 7, state ^= state << 17;
    return static_cast<std::uint8_t>(state & 3);  // few values: many ties and near-ties
  };
  auto random_address = [&] {
    lastack::IpAddress a;
    a.version = (next_byte() & 1) ? 4 : 6;
    for (auto& b : a.bytes) b = next_byte();
    return a;
  };
  for (int i = 0; i < 20000; ++i) {
    const lastack::IpAddress x = random_address();
    const lastack::IpAddress y = random_address();
    const auto expected = x.version != y.version
                              ? x.version <=> y.version
                              : std::lexicographical_compare_three_way(
                                    x.bytes.begin(), x.bytes.end(), y.bytes.begin(), y.bytes.end());
    REQUIRE((x <=> y) == expected);
    REQUIRE((x == y) == (expected == 0));
  }
}
