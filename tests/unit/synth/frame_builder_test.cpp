// The frame builder's bytes checked against the wire formats directly (not through decode):
// header layouts, option encoding and padding, and both checksums.
#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "lastack/capture/raw_frame.h"
#include "lastack/synth/frame_builder.h"

using lastack::IpAddress;
using lastack::synth::Link;
using lastack::synth::TcpSegmentSpec;
using Bytes = std::vector<std::uint8_t>;

namespace {

IpAddress ip(const char* text) {
  IpAddress a;
  REQUIRE(lastack::parse_ip(text, a));
  return a;
}

std::uint32_t get16(const Bytes& b, std::size_t at) {
  return (std::uint32_t{b[at]} << 8) | b[at + 1];
}

// RFC 1071 checksum verification: the sum over data including the checksum folds to 0xFFFF.
std::uint32_t ones_sum(const std::uint8_t* p, std::size_t n, std::uint32_t acc = 0) {
  for (std::size_t i = 0; i + 1 < n; i += 2) acc += (std::uint32_t{p[i]} << 8) | p[i + 1];
  if (n % 2 != 0) acc += std::uint32_t{p[n - 1]} << 8;
  while ((acc >> 16) != 0) acc = (acc & 0xFFFFu) + (acc >> 16);
  return acc;
}

bool tcp_checksum_ok(const Bytes& f, std::size_t ip_at, bool v6) {
  const std::size_t addr_len = v6 ? 16 : 4;
  const std::size_t addrs_at = ip_at + (v6 ? 8 : 12);
  const std::size_t tcp_at = ip_at + (v6 ? 40 : 20);
  const auto tcp_len = static_cast<std::uint32_t>(f.size() - tcp_at);
  std::uint32_t acc = ones_sum(f.data() + addrs_at, 2 * addr_len);
  acc += tcp_len + 6;
  return ones_sum(f.data() + tcp_at, tcp_len, acc) == 0xFFFF;
}

TcpSegmentSpec spec(bool v6) {
  TcpSegmentSpec s;
  s.src = v6 ? ip("2001:db8::a") : ip("192.0.2.1");
  s.dst = v6 ? ip("2001:db8::b") : ip("198.51.100.2");
  s.src_port = 40000;
  s.dst_port = 22;
  s.seq = 0x11223344;
  s.ack = 0x55667788;
  s.flags = 0x18;
  s.payload_len = 33;  // odd: exercises the checksum's trailing byte
  s.ip_id = 0x0102;
  s.ttl = 33;
  return s;
}

}  // namespace

TEST_CASE("builder: IPv4 header fields and checksums", "[synth]") {
  const Bytes f = lastack::synth::build_frame(spec(false));
  REQUIRE(f.size() == 14 + 20 + 20 + 33);
  CHECK(get16(f, 12) == 0x0800);
  CHECK(f[14] == 0x45);
  CHECK(get16(f, 16) == 20 + 20 + 33);
  CHECK(get16(f, 18) == 0x0102);
  CHECK(get16(f, 20) == 0x4000);  // DF
  CHECK(f[22] == 33);
  CHECK(f[23] == 6);
  CHECK(ones_sum(f.data() + 14, 20) == 0xFFFF);
  CHECK(tcp_checksum_ok(f, 14, false));
  CHECK(f[14 + 20 + 12] == 0x50);
  CHECK(f[14 + 20 + 13] == 0x18);
  CHECK(f[14 + 40] == 'a');
  CHECK(f[14 + 40 + 26] == 'a');
  CHECK(f[14 + 40 + 27] == 'b');
}

TEST_CASE("builder: IPv6 header and pseudo-header checksum", "[synth]") {
  const Bytes f = lastack::synth::build_frame(spec(true));
  REQUIRE(f.size() == 14 + 40 + 20 + 33);
  CHECK(get16(f, 12) == 0x86DD);
  CHECK(f[14] == 0x60);
  CHECK(get16(f, 18) == 20 + 33);
  CHECK(f[20] == 6);
  CHECK(f[21] == 33);
  CHECK(f[22 + 15] == 0x0a);
  CHECK(tcp_checksum_ok(f, 14, true));
  // A flipped payload bit breaks the checksum (the check above is not vacuous).
  Bytes broken = f;
  broken.back() ^= 0x01;
  CHECK_FALSE(tcp_checksum_ok(broken, 14, true));
}

TEST_CASE("builder: options in order, NOP-padded, raw options appended", "[synth]") {
  TcpSegmentSpec s = spec(false);
  s.payload_len = 0;
  s.mss = 1460;
  s.wscale = 7;
  s.sack_permitted = true;
  s.ts_val = 0x01020304;
  s.ts_ecr = 0x0A0B0C0D;
  s.raw_options = {30, 3, 9};
  const Bytes f = lastack::synth::build_frame(s);
  const std::size_t o = 14 + 20 + 20;
  // A NOP before TS aligns its values to 32 bits (RFC 7323 Appendix A).
  const Bytes expected = {2, 4, 0x05, 0xB4, 3,    3,    7,    4,    2,  1, 8, 10,
                          1, 2, 3,    4,    0x0A, 0x0B, 0x0C, 0x0D, 30, 3, 9, 1};
  REQUIRE(f.size() == o + expected.size());
  CHECK(Bytes(f.begin() + o, f.end()) == expected);
  CHECK(f[14 + 20 + 12] >> 4 == (20 + 24) / 4);
  CHECK(tcp_checksum_ok(f, 14, false));

  TcpSegmentSpec ts_only = spec(false);  // Linux's layout after the handshake
  ts_only.payload_len = 0;
  ts_only.ts_val = 0x01020304;
  ts_only.ts_ecr = 0x0A0B0C0D;
  const Bytes g = lastack::synth::build_frame(ts_only);
  CHECK(Bytes(g.begin() + o, g.end()) == Bytes{1, 1, 8, 10, 1, 2, 3, 4, 0x0A, 0x0B, 0x0C, 0x0D});
}

TEST_CASE("builder: VLAN tags outermost first", "[synth]") {
  TcpSegmentSpec s = spec(false);
  s.vlan_ids = {5, 4095};
  const Bytes f = lastack::synth::build_frame(s);
  CHECK(get16(f, 12) == 0x8100);
  CHECK(get16(f, 14) == 5);
  CHECK(get16(f, 16) == 0x8100);
  CHECK(get16(f, 18) == 4095);
  CHECK(get16(f, 20) == 0x0800);
  CHECK(f[22] == 0x45);
}

TEST_CASE("builder: link headers and link type numbers", "[synth]") {
  namespace lt = lastack::capture::linktype;
  const TcpSegmentSpec v4 = spec(false);
  const TcpSegmentSpec v6 = spec(true);
  const std::size_t ip4 = 20 + 20 + 33;

  const Bytes sll = lastack::synth::build_frame(v4, Link::linux_sll);
  CHECK(sll.size() == 16 + ip4);
  CHECK(get16(sll, 14) == 0x0800);
  const Bytes sll2 = lastack::synth::build_frame(v6, Link::linux_sll2);
  CHECK(get16(sll2, 0) == 0x86DD);
  CHECK(sll2[20] == 0x60);
  const Bytes raw = lastack::synth::build_frame(v4, Link::raw_ip);
  CHECK(raw.size() == ip4);
  CHECK(raw[0] == 0x45);
  const Bytes null4 = lastack::synth::build_frame(v4, Link::null_loopback);
  CHECK(Bytes(null4.begin(), null4.begin() + 4) == Bytes{2, 0, 0, 0});
  const Bytes null6 = lastack::synth::build_frame(v6, Link::null_loopback);
  CHECK(Bytes(null6.begin(), null6.begin() + 4) == Bytes{24, 0, 0, 0});

  CHECK(lastack::synth::link_type_of(Link::ethernet) == lt::ethernet);
  CHECK(lastack::synth::link_type_of(Link::linux_sll) == lt::linux_sll);
  CHECK(lastack::synth::link_type_of(Link::linux_sll2) == lt::linux_sll2);
  CHECK(lastack::synth::link_type_of(Link::raw_ip) == lt::raw);
  CHECK(lastack::synth::link_type_of(Link::null_loopback) == lt::null_loopback);
}

TEST_CASE("builder: option bytes beyond 40 are cut to fit the header", "[synth]") {
  TcpSegmentSpec s = spec(false);
  s.payload_len = 0;
  s.raw_options.assign(44, 1);
  const Bytes f = lastack::synth::build_frame(s);
  CHECK(f.size() == 14 + 20 + 60);
  CHECK(f[14 + 20 + 12] >> 4 == 15);
}
