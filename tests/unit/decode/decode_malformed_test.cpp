// IP and TCP edge cases: hand-corrupted builder frames for every Malformed reason, each next to a
// near miss that must still decode; snaplen cuts; fragments; TSO lengths; extension chains.
#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "lastack/capture/raw_frame.h"
#include "lastack/decode/decoded_packet.h"
#include "lastack/synth/frame_builder.h"

using lastack::IpAddress;
using lastack::synth::Link;
using lastack::synth::TcpSegmentSpec;
namespace decode = lastack::decode;
using decode::Malformed;
using decode::Outcome;
using Bytes = std::vector<std::uint8_t>;

namespace {

// Offsets in an untagged Ethernet IPv4 frame from the builder.
constexpr std::size_t kIp = 14;
constexpr std::size_t kTcp4 = kIp + 20;
constexpr std::size_t kTcp6 = kIp + 40;

// `orig_len` is the frame's length on the wire; 0 (unknown) means "as captured".
decode::DecodedPacket run_decode(const Bytes& bytes, std::size_t orig_len = 0) {
  lastack::capture::RawFrame frame;
  frame.link_type = lastack::capture::linktype::ethernet;
  frame.orig_len = static_cast<std::uint32_t>(orig_len);
  frame.bytes = lastack::ByteView(bytes.data(), bytes.size());
  decode::DecodedPacket out;
  decode::decode_frame(frame, out);
  return out;
}

IpAddress ip(const char* text) {
  IpAddress a;
  REQUIRE(lastack::parse_ip(text, a));
  return a;
}

TcpSegmentSpec spec(bool v6 = false, std::uint32_t payload = 10) {
  TcpSegmentSpec s;
  s.src = v6 ? ip("fe80::1") : ip("10.0.0.1");
  s.dst = v6 ? ip("fe80::2") : ip("10.0.0.2");
  s.src_port = 1000;
  s.dst_port = 80;
  s.seq = 1;
  s.ack = 2;
  s.flags = decode::tcp_flag::ack;
  s.payload_len = payload;
  return s;
}

Bytes frame_with_options(const Bytes& raw_options, bool v6 = false) {
  TcpSegmentSpec s = spec(v6);
  s.raw_options = raw_options;
  return lastack::synth::build_frame(s);
}

void set16(Bytes& b, std::size_t at, std::uint32_t v) {
  b[at] = static_cast<std::uint8_t>(v >> 8);
  b[at + 1] = static_cast<std::uint8_t>(v);
}
std::uint32_t get16(const Bytes& b, std::size_t at) {
  return (std::uint32_t{b[at]} << 8) | b[at + 1];
}

Malformed malformed_of(const Bytes& frame) {
  const auto d = run_decode(frame);
  CHECK(d.outcome == Outcome::malformed);
  return d.malformed;
}

// Inserts an IPv6 extension header (8 bytes) right after the fixed header.
void push_ipv6_ext(Bytes& f, std::uint8_t type, Bytes body8) {
  body8[0] = f[kIp + 6];  // its next header = the previous first header
  f[kIp + 6] = type;
  f.insert(f.begin() + static_cast<std::ptrdiff_t>(kTcp6), body8.begin(), body8.end());
  set16(f, kIp + 4, get16(f, kIp + 4) + 8);
}

}  // namespace

TEST_CASE("IPv4 header length: IHL below 5 or beyond the capture", "[decode]") {
  Bytes f = lastack::synth::build_frame(spec());
  f[kIp] = 0x44;
  CHECK(malformed_of(f) == Malformed::ipv4_bad_ihl);

  Bytes cut = lastack::synth::build_frame(spec());
  cut.resize(kIp + 24);
  cut[kIp] = 0x4F;  // 60-byte header, 24 bytes captured
  CHECK(malformed_of(cut) == Malformed::ipv4_bad_ihl);

  Bytes short_ip = lastack::synth::build_frame(spec());
  short_ip.resize(kIp + 19);
  CHECK(malformed_of(short_ip) == Malformed::ipv4_truncated);
}

TEST_CASE("IPv4 options are skipped via IHL", "[decode]") {
  Bytes f = lastack::synth::build_frame(spec());
  const Bytes options = {0x01, 0x01, 0x01, 0x00};  // NOP NOP NOP EOL
  f.insert(f.begin() + kTcp4, options.begin(), options.end());
  f[kIp] = 0x46;
  set16(f, kIp + 2, get16(f, kIp + 2) + 4);
  const auto d = run_decode(f);
  REQUIRE(d.outcome == Outcome::tcp);
  CHECK(d.tcp.src_port == 1000);
  CHECK(d.tcp.payload_len == 10);
}

TEST_CASE("IPv4 total length: below the header, zero (TSO), beyond the capture", "[decode]") {
  Bytes f = lastack::synth::build_frame(spec());
  set16(f, kIp + 2, 19);
  CHECK(malformed_of(f) == Malformed::ipv4_bad_length);

  set16(f, kIp + 2, 20);  // exactly the IP header: no room for TCP
  CHECK(malformed_of(f) == Malformed::tcp_truncated);

  set16(f, kIp + 2, 0);  // TSO: the captured length is the packet
  auto d = run_decode(f);
  REQUIRE(d.outcome == Outcome::tcp);
  CHECK(d.tcp.payload_len == 10);
  CHECK(d.tcp.captured_payload == 10);

  Bytes big = lastack::synth::build_frame(spec(false, 1000));
  const std::size_t wire = big.size();
  big.resize(big.size() - 900);  // snaplen: the header still says 1000 payload bytes
  d = run_decode(big, wire);
  REQUIRE(d.outcome == Outcome::tcp);
  CHECK(d.tcp.payload_len == 1000);
  CHECK(d.tcp.captured_payload == 100);
}

TEST_CASE("IP length beyond the frame's wire length is clamped to the wire", "[decode]") {
  // The frame was complete on the wire (orig_len == caplen) but the header claims 8 bytes more:
  // those bytes never existed, so the payload is what the frame held (as Wireshark reads it).
  for (const bool v6 : {false, true}) {
    Bytes f = lastack::synth::build_frame(spec(v6, 100));
    const std::size_t len_at = v6 ? kIp + 4 : kIp + 2;
    set16(f, len_at, get16(f, len_at) + 8);
    auto d = run_decode(f, f.size());
    REQUIRE(d.outcome == Outcome::tcp);
    CHECK(d.tcp.payload_len == 100);
    CHECK(d.tcp.captured_payload == 100);
    // Near miss: 8 bytes were cut by the snaplen, so the claim is plausible and kept.
    d = run_decode(f, f.size() + 8);
    REQUIRE(d.outcome == Outcome::tcp);
    CHECK(d.tcp.payload_len == 108);
    CHECK(d.tcp.captured_payload == 100);
  }
}

TEST_CASE("Ethernet padding after a short packet is not payload", "[decode]") {
  for (const bool v6 : {false, true}) {
    Bytes f = lastack::synth::build_frame(spec(v6, 0));
    f.resize(f.size() + 6, 0);
    const auto d = run_decode(f);
    REQUIRE(d.outcome == Outcome::tcp);
    CHECK(d.tcp.payload_len == 0);
    CHECK(d.tcp.captured_payload == 0);
  }
}

TEST_CASE("IPv4 fragments are counted, DF alone is not a fragment", "[decode]") {
  Bytes f = lastack::synth::build_frame(spec());
  REQUIRE(get16(f, kIp + 6) == 0x4000);  // builder sets DF
  CHECK(run_decode(f).outcome == Outcome::tcp);
  set16(f, kIp + 6, 0x2000);  // first fragment (MF, offset 0)
  CHECK(run_decode(f).outcome == Outcome::fragment);
  set16(f, kIp + 6, 0x0001);  // last fragment (offset 8)
  CHECK(run_decode(f).outcome == Outcome::fragment);
  CHECK(run_decode(f).malformed == Malformed::none);
}

TEST_CASE("Non-TCP protocols are not_tcp", "[decode]") {
  Bytes f = lastack::synth::build_frame(spec());
  f[kIp + 9] = 17;  // UDP
  auto d = run_decode(f);
  CHECK(d.outcome == Outcome::not_tcp);
  CHECK(d.src == ip("10.0.0.1"));
  f[kIp + 9] = 1;  // ICMP (an ICMP error quoting TCP stays not_tcp)
  CHECK(run_decode(f).outcome == Outcome::not_tcp);

  Bytes f6 = lastack::synth::build_frame(spec(true));
  for (const int nh : {17, 58, 59, 50}) {
    f6[kIp + 6] = static_cast<std::uint8_t>(nh);
    CHECK(run_decode(f6).outcome == Outcome::not_tcp);
  }
}

TEST_CASE("Version nibble must match the EtherType", "[decode]") {
  Bytes f = lastack::synth::build_frame(spec());
  f[kIp] = 0x65;
  CHECK(malformed_of(f) == Malformed::ip_bad_version);
  Bytes f6 = lastack::synth::build_frame(spec(true));
  f6[kIp] = 0x45;
  CHECK(malformed_of(f6) == Malformed::ip_bad_version);
  f6.resize(kIp + 39);
  CHECK(malformed_of(f6) == Malformed::ipv6_truncated);
}

TEST_CASE("IPv6 extension headers are followed, capped at 16", "[decode]") {
  const Bytes dest_opts = {0, 0, 0x01, 0x04, 0, 0, 0, 0};  // PadN covering 6 bytes
  for (const int n : {1, 16}) {
    Bytes f = lastack::synth::build_frame(spec(true));
    for (int i = 0; i < n; ++i) push_ipv6_ext(f, 60, dest_opts);
    const auto d = run_decode(f);
    INFO(n << " headers");
    REQUIRE(d.outcome == Outcome::tcp);
    CHECK(d.tcp.src_port == 1000);
    CHECK(d.tcp.payload_len == 10);
    CHECK(d.tcp.captured_payload == 10);
  }
  for (const int n : {17, 100}) {
    Bytes f = lastack::synth::build_frame(spec(true));
    for (int i = 0; i < n; ++i) push_ipv6_ext(f, 60, dest_opts);
    CHECK(malformed_of(f) == Malformed::ipv6_bad_ext_header);
  }
}

TEST_CASE("IPv6 hop-by-hop, routing and AH headers are walked", "[decode]") {
  Bytes f = lastack::synth::build_frame(spec(true));
  push_ipv6_ext(f, 43, {0, 0, 0, 0, 0, 0, 0, 0});
  // AH: length field 1 → (1 + 2) * 4 = 12 bytes; build it by hand.
  const Bytes ah = {f[kIp + 6], 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1};
  f[kIp + 6] = 51;
  f.insert(f.begin() + kTcp6, ah.begin(), ah.end());
  set16(f, kIp + 4, get16(f, kIp + 4) + 12);
  push_ipv6_ext(f, 0, {0, 0, 0x01, 0x04, 0, 0, 0, 0});
  const auto d = run_decode(f);
  REQUIRE(d.outcome == Outcome::tcp);
  CHECK(d.tcp.dst_port == 80);
}

TEST_CASE("IPv6 extension header running past the capture", "[decode]") {
  Bytes f = lastack::synth::build_frame(spec(true));
  push_ipv6_ext(f, 60, {0, 0, 0x01, 0x04, 0, 0, 0, 0});
  f[kTcp6 + 1] = 200;  // claims 1608 bytes
  CHECK(malformed_of(f) == Malformed::ipv6_bad_ext_header);
}

TEST_CASE("IPv6 fragment header: a fragment is counted, an atomic one is decoded", "[decode]") {
  Bytes f = lastack::synth::build_frame(spec(true));
  push_ipv6_ext(f, 44, {0, 0, 0x00, 0x01, 0, 0, 0, 7});  // offset 0, M = 1
  CHECK(run_decode(f).outcome == Outcome::fragment);

  Bytes later = lastack::synth::build_frame(spec(true));
  push_ipv6_ext(later, 44, {0, 0, 0x00, 0x08, 0, 0, 0, 7});  // offset 1, M = 0
  CHECK(run_decode(later).outcome == Outcome::fragment);

  Bytes atomic = lastack::synth::build_frame(spec(true));
  push_ipv6_ext(atomic, 44, {0, 0, 0x00, 0x00, 0, 0, 0, 7});  // RFC 6946 atomic fragment
  CHECK(run_decode(atomic).outcome == Outcome::tcp);
}

TEST_CASE("IPv6 payload length 0 uses the captured length", "[decode]") {
  Bytes f = lastack::synth::build_frame(spec(true));
  set16(f, kIp + 4, 0);
  const auto d = run_decode(f);
  REQUIRE(d.outcome == Outcome::tcp);
  CHECK(d.tcp.payload_len == 10);
  CHECK(d.ttl == 64);
}

TEST_CASE("TCP data offset below 5 or beyond the IP payload", "[decode]") {
  Bytes f = lastack::synth::build_frame(spec(false, 0));
  f[kTcp4 + 12] = 0x40;
  CHECK(malformed_of(f) == Malformed::tcp_bad_offset);
  f[kTcp4 + 12] = 0x60;  // 24 bytes, but the IP payload holds only 20
  CHECK(malformed_of(f) == Malformed::tcp_bad_offset);
  f[kTcp4 + 12] = 0x50;
  CHECK(run_decode(f).outcome == Outcome::tcp);

  Bytes cut = lastack::synth::build_frame(spec(false, 0));
  cut.resize(kTcp4 + 19);
  CHECK(malformed_of(cut) == Malformed::tcp_truncated);
}

TEST_CASE("Snaplen inside the TCP options keeps the fixed header", "[decode]") {
  TcpSegmentSpec s = spec(false, 50);
  s.mss = 1400;
  s.sack_permitted = true;
  s.ts_val = 77;
  s.ts_ecr = 66;
  const Bytes full = lastack::synth::build_frame(s);     // options: MSS(4) SACKP(2) TS(10)
  Bytes f(full.begin(), full.begin() + kTcp4 + 20 + 8);  // cut inside the TS option
  auto d = run_decode(f, full.size());
  REQUIRE(d.outcome == Outcome::tcp);
  CHECK_FALSE(d.tcp.options_complete);
  CHECK(d.tcp.header_len == 36);
  CHECK(d.tcp.seq.raw() == 1);
  CHECK(d.tcp.options.has_mss);
  CHECK(d.tcp.options.mss == 1400);
  CHECK(d.tcp.options.sack_permitted);
  CHECK_FALSE(d.tcp.options.has_timestamps);
  CHECK(d.tcp.payload_len == 50);
  CHECK(d.tcp.captured_payload == 0);

  Bytes len_byte_cut(full.begin(), full.begin() + kTcp4 + 20 + 1);  // only MSS's kind byte
  d = run_decode(len_byte_cut, full.size());
  REQUIRE(d.outcome == Outcome::tcp);
  CHECK_FALSE(d.tcp.options_complete);
  CHECK_FALSE(d.tcp.options.has_mss);

  Bytes in_payload(full.begin(), full.end() - 20);
  d = run_decode(in_payload, full.size());
  REQUIRE(d.outcome == Outcome::tcp);
  CHECK(d.tcp.options_complete);
  CHECK(d.tcp.options.has_timestamps);
  CHECK(d.tcp.options.ts_val == 77);
  CHECK(d.tcp.options.ts_ecr == 66);
  CHECK(d.tcp.captured_payload == 30);
}

TEST_CASE("TCP options with a bad length make the packet malformed", "[decode]") {
  // Each: the options (NOP-padded by the builder to a multiple of 4).
  const std::vector<Bytes> bad = {
      {30, 0},                      // length 0
      {30, 1},                      // length 1
      {30, 8, 0, 0},                // runs past the 4 option bytes
      {1, 1, 1, 30},                // no room for the length byte
      {2, 3, 0},                    // MSS length 3
      {3, 4, 7, 0},                 // WS length 4
      {4, 3, 0},                    // SACK-permitted length 3
      {8, 9, 0, 0, 0, 1, 0, 0, 0},  // TS length 9
      {5, 6, 0, 0, 0, 1},           // SACK with half a block
      {34, 4, 1, 2},                // TFO cookie below 4 bytes
  };
  for (const Bytes& opts : bad) {
    INFO("options[0..1] " << int{opts[0]} << " " << int{opts[1]});
    CHECK(malformed_of(frame_with_options(opts)) == Malformed::tcp_bad_options);
  }
}

TEST_CASE("Well-formed rare options decode", "[decode]") {
  auto opts_of = [](const Bytes& raw) {
    const auto d = run_decode(frame_with_options(raw));
    REQUIRE(d.outcome == Outcome::tcp);
    return d.tcp.options;
  };
  CHECK(opts_of({30, 4, 0, 0}).has_mss == false);  // unknown kind skipped by length
  CHECK(opts_of({0, 30, 0, 0}).has_mss == false);  // EOL ends parsing; rest ignored
  CHECK(opts_of({5, 10, 0, 0, 0, 1, 0, 0, 0, 2}).sack_blocks == 1);
  CHECK(opts_of({1, 1, 5, 34, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0,
                 0, 4, 0, 0,  0, 5, 0, 0, 0, 6, 0, 0, 0, 7, 0, 0, 0, 8})
            .sack_blocks == 4);
  CHECK(opts_of({34, 2}).has_fast_open);                           // cookie request
  CHECK(opts_of({34, 10, 1, 2, 3, 4, 5, 6, 7, 8}).has_fast_open);  // 8-byte cookie
  CHECK(opts_of({254, 4, 0xF9, 0x89}).has_fast_open);              // experimental TFO
  CHECK_FALSE(opts_of({254, 4, 0x12, 0x34}).has_fast_open);        // another experiment
  CHECK(opts_of({3, 3, 15}).wscale == 15);                         // kept as sent
}

TEST_CASE("Timestamps read the same in every option layout", "[decode]") {
  // NOP, NOP, TS (Linux, RFC 7323 Appendix A) takes a direct path; TS first, TS after other
  // options, and the aligned layout followed by more options go through the option loop.
  auto opts_of = [](const Bytes& raw) {
    const auto d = run_decode(frame_with_options(raw));
    REQUIRE(d.outcome == Outcome::tcp);
    return d.tcp.options;
  };
  const Bytes ts = {8, 10, 0x01, 0x02, 0x03, 0x04, 0xA0, 0xB0, 0xC0, 0xD0};
  auto with = [&ts](Bytes before, const Bytes& after) {
    before.insert(before.end(), ts.begin(), ts.end());
    before.insert(before.end(), after.begin(), after.end());
    return before;
  };
  for (const Bytes& raw : {with({1, 1}, {}), with({}, {1, 1}), with({2, 4, 5, 0xB4, 1, 1}, {}),
                           with({1, 1}, {3, 3, 7, 1}), with({1, 1}, {0, 0, 0, 0})}) {
    INFO("options of " << raw.size() << " bytes, first " << int{raw[0]});
    const auto o = opts_of(raw);
    CHECK(o.has_timestamps);
    CHECK(o.ts_val == 0x01020304);
    CHECK(o.ts_ecr == 0xA0B0C0D0);
  }
  CHECK(opts_of(with({1, 1}, {3, 3, 7, 1})).wscale == 7);  // the loop reads past the TS
  CHECK(malformed_of(frame_with_options({1, 1, 8, 10, 0, 0})) == Malformed::tcp_bad_options);
}

TEST_CASE("Outcome and Malformed names match the enumerators", "[decode]") {
  CHECK(decode::to_string(Outcome::tcp) == "tcp");
  CHECK(decode::to_string(Outcome::not_ip) == "not_ip");
  CHECK(decode::to_string(Outcome::not_tcp) == "not_tcp");
  CHECK(decode::to_string(Outcome::fragment) == "fragment");
  CHECK(decode::to_string(Outcome::unsupported_link) == "unsupported_link");
  CHECK(decode::to_string(Outcome::malformed) == "malformed");
  CHECK(decode::to_string(Malformed::none) == "none");
  CHECK(decode::to_string(Malformed::link_truncated) == "link_truncated");
  CHECK(decode::to_string(Malformed::vlan_too_deep) == "vlan_too_deep");
  CHECK(decode::to_string(Malformed::ipv4_truncated) == "ipv4_truncated");
  CHECK(decode::to_string(Malformed::ipv4_bad_ihl) == "ipv4_bad_ihl");
  CHECK(decode::to_string(Malformed::ipv4_bad_length) == "ipv4_bad_length");
  CHECK(decode::to_string(Malformed::ipv6_truncated) == "ipv6_truncated");
  CHECK(decode::to_string(Malformed::ipv6_bad_ext_header) == "ipv6_bad_ext_header");
  CHECK(decode::to_string(Malformed::ip_bad_version) == "ip_bad_version");
  CHECK(decode::to_string(Malformed::tcp_truncated) == "tcp_truncated");
  CHECK(decode::to_string(Malformed::tcp_bad_offset) == "tcp_bad_offset");
  CHECK(decode::to_string(Malformed::tcp_bad_options) == "tcp_bad_options");
}

TEST_CASE("Every prefix of a frame decodes without reading past it", "[decode]") {
  // Cut a fully-featured frame at every length: decode must classify, never crash (ASan builds
  // catch overreads). The full frame is TCP; short prefixes are link_truncated.
  TcpSegmentSpec s = spec(true, 8);
  s.mss = 1220;
  s.ts_val = 5;
  s.vlan_ids = {3};
  const Bytes full = lastack::synth::build_frame(s);
  for (std::size_t n = 0; n <= full.size(); ++n) {
    const Bytes cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    const auto d = run_decode(cut, full.size());
    if (n < 18) CHECK(d.malformed == Malformed::link_truncated);
    if (n >= 18 + 40 + 20) CHECK(d.outcome == Outcome::tcp);
  }
}
