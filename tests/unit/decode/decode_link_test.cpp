// Round trips: frames from the synthetic builder, decoded back, for every link type decode
// supports; plus the link-layer edge cases (VLAN stacks, MPLS, loopback byte orders, NFLOG).
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
namespace linktype = lastack::capture::linktype;
using Bytes = std::vector<std::uint8_t>;

namespace {

decode::DecodedPacket run_decode(const Bytes& bytes, std::uint32_t link_type,
                                 std::size_t orig_len = 0) {
  lastack::capture::RawFrame frame;
  frame.link_type = link_type;
  frame.orig_len = static_cast<std::uint32_t>(orig_len > 0 ? orig_len : bytes.size());
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

TcpSegmentSpec full_spec(bool v6) {
  TcpSegmentSpec s;
  s.src = v6 ? ip("2001:db8::1") : ip("10.1.2.3");
  s.dst = v6 ? ip("2001:db8::2") : ip("192.168.7.9");
  s.src_port = 51234;
  s.dst_port = 443;
  s.seq = 0xFFFFFF00u;
  s.ack = 0x01020304u;
  s.flags = decode::tcp_flag::syn | decode::tcp_flag::ack | decode::tcp_flag::ece;
  s.window = 29200;
  s.payload_len = 100;
  s.ttl = 57;
  s.ip_id = 0xBEEF;
  s.mss = 1440;
  s.wscale = 9;
  s.sack_permitted = true;
  s.ts_val = 123456789u;
  s.ts_ecr = 987654321u;
  return s;
}

void check_fields(const decode::DecodedPacket& d, const TcpSegmentSpec& s) {
  REQUIRE(d.outcome == decode::Outcome::tcp);
  CHECK(d.malformed == decode::Malformed::none);
  CHECK(d.ip_version == s.src.version);
  CHECK(d.src == s.src);
  CHECK(d.dst == s.dst);
  CHECK(d.ttl == s.ttl);
  CHECK(d.ip_id == (s.src.version == 4 ? s.ip_id : 0));
  CHECK(d.tcp.src_port == s.src_port);
  CHECK(d.tcp.dst_port == s.dst_port);
  CHECK(d.tcp.seq.raw() == s.seq);
  CHECK(d.tcp.ack.raw() == s.ack);
  CHECK(d.tcp.flags == s.flags);
  CHECK(d.tcp.window == s.window);
  CHECK(d.tcp.payload_len == s.payload_len);
  CHECK(d.tcp.captured_payload == s.payload_len);
  CHECK(d.tcp.options_complete);
  const auto& o = d.tcp.options;
  CHECK(o.has_mss == s.mss.has_value());
  CHECK(o.mss == s.mss.value_or(0));
  CHECK(o.has_wscale == s.wscale.has_value());
  CHECK(o.wscale == s.wscale.value_or(0));
  CHECK(o.sack_permitted == s.sack_permitted);
  CHECK(o.has_timestamps == s.ts_val.has_value());
  CHECK(o.ts_val == s.ts_val.value_or(0));
  CHECK(o.ts_ecr == (s.ts_val ? s.ts_ecr : 0));
}

// Offset of the IP header in a builder frame.
std::size_t ip_offset(Link link, std::size_t vlans = 0) {
  switch (link) {
    case Link::ethernet: return 14 + 4 * vlans;
    case Link::linux_sll: return 16;
    case Link::linux_sll2: return 20;
    case Link::raw_ip: return 0;
    case Link::null_loopback: return 4;
  }
  return 0;
}

}  // namespace

TEST_CASE("decode round-trips every builder link type, IPv4 and IPv6", "[decode]") {
  const Link links[] = {Link::ethernet, Link::linux_sll, Link::linux_sll2, Link::raw_ip,
                        Link::null_loopback};
  for (const bool v6 : {false, true}) {
    for (const Link link : links) {
      INFO("link " << static_cast<int>(link) << " v6 " << v6);
      const TcpSegmentSpec s = full_spec(v6);
      const Bytes frame = lastack::synth::build_frame(s, link);
      const auto d = run_decode(frame, lastack::synth::link_type_of(link));
      check_fields(d, s);
      CHECK(d.vlan_id == 0);
      const std::size_t tcp_len = 20 + 20 + 100;  // header + 20 option bytes + payload
      CHECK(d.tcp.header_len == 40);
      CHECK(frame.size() == ip_offset(link) + (v6 ? 40 : 20) + tcp_len);
    }
  }
}

TEST_CASE("decode reads a segment without options and all flag bits", "[decode]") {
  TcpSegmentSpec s = full_spec(false);
  s.mss.reset();
  s.wscale.reset();
  s.sack_permitted = false;
  s.ts_val.reset();
  s.flags = 0xFF;
  s.payload_len = 0;
  const auto d = run_decode(lastack::synth::build_frame(s), linktype::ethernet);
  check_fields(d, s);
  CHECK(d.tcp.header_len == 20);
}

TEST_CASE("decode: raw IP under the other raw link type numbers", "[decode]") {
  for (const bool v6 : {false, true}) {
    const TcpSegmentSpec s = full_spec(v6);
    const Bytes frame = lastack::synth::build_frame(s, Link::raw_ip);
    check_fields(run_decode(frame, linktype::raw_dlt12), s);
    check_fields(run_decode(frame, linktype::raw_dlt14), s);
    check_fields(run_decode(frame, v6 ? linktype::ipv6 : linktype::ipv4), s);
    // LINKTYPE_IPV4 / IPV6 fix the version: the other one is a bad version, not a guess.
    const auto wrong = run_decode(frame, v6 ? linktype::ipv4 : linktype::ipv6);
    CHECK(wrong.outcome == decode::Outcome::malformed);
    CHECK(wrong.malformed == decode::Malformed::ip_bad_version);
  }
}

TEST_CASE("decode: raw IP with an unknown version nibble", "[decode]") {
  Bytes frame = lastack::synth::build_frame(full_spec(false), Link::raw_ip);
  frame[0] = 0x55;
  const auto d = run_decode(frame, linktype::raw);
  CHECK(d.outcome == decode::Outcome::malformed);
  CHECK(d.malformed == decode::Malformed::ip_bad_version);
  CHECK(run_decode(Bytes{}, linktype::raw).malformed == decode::Malformed::link_truncated);
}

TEST_CASE("decode: BSD loopback accepts either byte order and every BSD AF_INET6", "[decode]") {
  const Bytes v4 = lastack::synth::build_frame(full_spec(false), Link::raw_ip);
  const Bytes v6 = lastack::synth::build_frame(full_spec(true), Link::raw_ip);
  auto with_af = [](const Bytes& ip_pkt, Bytes af) {
    af.insert(af.end(), ip_pkt.begin(), ip_pkt.end());
    return af;
  };
  // Big-endian capturing host.
  check_fields(run_decode(with_af(v4, {0, 0, 0, 2}), linktype::null_loopback), full_spec(false));
  for (const std::uint8_t af6 : {std::uint8_t{24}, std::uint8_t{28}, std::uint8_t{30}}) {
    check_fields(run_decode(with_af(v6, {af6, 0, 0, 0}), linktype::null_loopback), full_spec(true));
    check_fields(run_decode(with_af(v6, {0, 0, 0, af6}), linktype::null_loopback), full_spec(true));
    // LINKTYPE_LOOP: network byte order only.
    check_fields(run_decode(with_af(v6, {0, 0, 0, af6}), linktype::loop), full_spec(true));
  }
  check_fields(run_decode(with_af(v4, {0, 0, 0, 2}), linktype::loop), full_spec(false));
  // Linux AF_INET6 (10) never appears in DLT_NULL; an unknown AF is not IP.
  CHECK(run_decode(with_af(v6, {10, 0, 0, 0}), linktype::null_loopback).outcome ==
        decode::Outcome::not_ip);
  CHECK(run_decode(with_af(v4, {2, 0, 0, 0}), linktype::loop).outcome == decode::Outcome::not_ip);
  CHECK(run_decode(Bytes{2, 0, 0}, linktype::null_loopback).malformed ==
        decode::Malformed::link_truncated);
}

TEST_CASE("decode: 802.1Q tags, innermost VLAN id kept, depth capped at 8", "[decode]") {
  TcpSegmentSpec s = full_spec(false);
  s.vlan_ids = {100, 200};
  auto d = run_decode(lastack::synth::build_frame(s), linktype::ethernet);
  check_fields(d, s);
  CHECK(d.vlan_id == 200);

  s.vlan_ids.assign(8, 7);
  s.vlan_ids.back() = 4095;
  d = run_decode(lastack::synth::build_frame(s), linktype::ethernet);
  check_fields(d, s);
  CHECK(d.vlan_id == 4095);

  s.vlan_ids.assign(9, 7);
  d = run_decode(lastack::synth::build_frame(s), linktype::ethernet);
  CHECK(d.outcome == decode::Outcome::malformed);
  CHECK(d.malformed == decode::Malformed::vlan_too_deep);

  s.vlan_ids.assign(100, 7);
  d = run_decode(lastack::synth::build_frame(s), linktype::ethernet);
  CHECK(d.malformed == decode::Malformed::vlan_too_deep);
}

TEST_CASE("decode: 802.1ad and 0x9100 outer tags, and tags cut short", "[decode]") {
  TcpSegmentSpec s = full_spec(false);
  s.vlan_ids = {10, 20};
  for (const std::uint32_t outer : {0x88A8u, 0x9100u}) {
    Bytes frame = lastack::synth::build_frame(s);
    frame[12] = static_cast<std::uint8_t>(outer >> 8);
    frame[13] = static_cast<std::uint8_t>(outer);
    const auto d = run_decode(frame, linktype::ethernet);
    check_fields(d, s);
    CHECK(d.vlan_id == 20);
  }
  Bytes cut = lastack::synth::build_frame(s);
  cut.resize(14 + 2);  // inside the first tag
  CHECK(run_decode(cut, linktype::ethernet).malformed == decode::Malformed::link_truncated);
}

TEST_CASE("decode: VLAN tag carried after the SLL protocol field", "[decode]") {
  const TcpSegmentSpec s = full_spec(true);
  Bytes frame = lastack::synth::build_frame(s, Link::linux_sll);
  // Protocol 0x8100, then TCI 42 and the real protocol.
  const Bytes tag = {0x00, 0x2A, 0x86, 0xDD};
  frame[14] = 0x81;
  frame[15] = 0x00;
  frame.insert(frame.begin() + 16, tag.begin(), tag.end());
  const auto d = run_decode(frame, linktype::linux_sll);
  check_fields(d, s);
  CHECK(d.vlan_id == 42);
}

TEST_CASE("decode: MPLS label stacks up to the bottom-of-stack bit", "[decode]") {
  for (const bool v6 : {false, true}) {
    const TcpSegmentSpec s = full_spec(v6);
    auto with_labels = [&](int n) {
      Bytes frame = lastack::synth::build_frame(s);
      frame[12] = 0x88;
      frame[13] = 0x47;
      Bytes labels;
      for (int i = 0; i < n; ++i) {
        const bool bottom = i == n - 1;
        labels.insert(labels.end(),
                      {0x00, 0x01, static_cast<std::uint8_t>(bottom ? 0x01 : 0x00), 0x40});
      }
      frame.insert(frame.begin() + 14, labels.begin(), labels.end());
      return frame;
    };
    check_fields(run_decode(with_labels(1), linktype::ethernet), s);
    check_fields(run_decode(with_labels(8), linktype::ethernet), s);
    CHECK(run_decode(with_labels(9), linktype::ethernet).malformed ==
          decode::Malformed::vlan_too_deep);
  }
  // A pseudowire control word (first nibble 0) is not IP.
  Bytes pw = lastack::synth::build_frame(full_spec(false));
  pw[12] = 0x88;
  pw[13] = 0x47;
  const Bytes label_and_cw = {0x00, 0x01, 0x01, 0x40, 0x00, 0x00, 0x00, 0x00};
  pw.insert(pw.begin() + 14, label_and_cw.begin(), label_and_cw.end());
  CHECK(run_decode(pw, linktype::ethernet).outcome == decode::Outcome::not_ip);
}

namespace {

void put_tlv(Bytes& out, bool little, std::uint16_t type, const Bytes& value) {
  const auto len = static_cast<std::uint16_t>(4 + value.size());
  auto put16 = [&](std::uint16_t v) {
    const auto hi = static_cast<std::uint8_t>(v >> 8);
    const auto lo = static_cast<std::uint8_t>(v);
    out.push_back(little ? lo : hi);
    out.push_back(little ? hi : lo);
  };
  put16(len);
  put16(type);
  out.insert(out.end(), value.begin(), value.end());
  while (out.size() % 4 != 0) out.push_back(0);
}

Bytes nflog_frame(const Bytes& ip_pkt, bool little, std::uint8_t family) {
  Bytes f = {family, 0, 0, 0};
  put_tlv(f, little, 1, {0x08, 0x00, 3, 0});        // NFULA_PACKET_HDR
  put_tlv(f, little, 10, {'l', 'o', 'g', 0, 'x'});  // NFULA_PREFIX, odd length: padded
  put_tlv(f, little, 9, ip_pkt);                    // NFULA_PAYLOAD
  return f;
}

}  // namespace

TEST_CASE("decode: NFLOG payload TLV in either host byte order", "[decode]") {
  for (const bool v6 : {false, true}) {
    for (const bool little : {true, false}) {
      INFO("v6 " << v6 << " little " << little);
      TcpSegmentSpec s = full_spec(v6);
      s.payload_len = 5;  // payload TLV length not a multiple of 4
      const Bytes ip_pkt = lastack::synth::build_frame(s, Link::raw_ip);
      check_fields(run_decode(nflog_frame(ip_pkt, little, v6 ? 10 : 2), linktype::nflog), s);
      // Unknown family: the version nibble decides.
      check_fields(run_decode(nflog_frame(ip_pkt, little, 1), linktype::nflog), s);
    }
  }
}

TEST_CASE("decode: NFLOG without payload, with a bad TLV, or cut by snaplen", "[decode]") {
  Bytes no_payload = {2, 0, 0, 0};
  put_tlv(no_payload, true, 1, {0x08, 0x00, 3, 0});
  CHECK(run_decode(no_payload, linktype::nflog).outcome == decode::Outcome::not_ip);

  Bytes bad = {2, 0, 0, 0, 2, 0, 9, 0};  // TLV length 2 < its own header
  CHECK(run_decode(bad, linktype::nflog).malformed == decode::Malformed::link_truncated);
  CHECK(run_decode(Bytes{2, 0}, linktype::nflog).malformed == decode::Malformed::link_truncated);

  TcpSegmentSpec s = full_spec(false);
  Bytes frame = nflog_frame(lastack::synth::build_frame(s, Link::raw_ip), true, 2);
  const std::size_t wire = frame.size();
  frame.resize(frame.size() - 60);  // cut inside the TCP payload
  const auto d = run_decode(frame, linktype::nflog, wire);
  REQUIRE(d.outcome == decode::Outcome::tcp);
  CHECK(d.tcp.payload_len == 100);
  CHECK(d.tcp.captured_payload == 40);
}

TEST_CASE("decode: non-IP and unknown link types are counted, not errors", "[decode]") {
  Bytes arp = lastack::synth::build_frame(full_spec(false));
  arp[12] = 0x08;
  arp[13] = 0x06;
  CHECK(run_decode(arp, linktype::ethernet).outcome == decode::Outcome::not_ip);
  CHECK(run_decode(arp, linktype::ethernet).malformed == decode::Malformed::none);

  Bytes llc = arp;  // 802.3 length field instead of an EtherType
  llc[12] = 0x00;
  llc[13] = 0x40;
  CHECK(run_decode(llc, linktype::ethernet).outcome == decode::Outcome::not_ip);

  const Bytes frame = lastack::synth::build_frame(full_spec(false));
  const auto d = run_decode(frame, 147);  // LINKTYPE_USER0
  CHECK(d.outcome == decode::Outcome::unsupported_link);
  CHECK(d.malformed == decode::Malformed::none);
}

TEST_CASE("decode: frames shorter than their link header", "[decode]") {
  const Bytes frame = lastack::synth::build_frame(full_spec(false), Link::linux_sll2);
  const Bytes eth(frame.begin(), frame.begin() + 13);
  CHECK(run_decode(eth, linktype::ethernet).malformed == decode::Malformed::link_truncated);
  CHECK(run_decode(Bytes(15, 0), linktype::linux_sll).malformed ==
        decode::Malformed::link_truncated);
  CHECK(run_decode(Bytes(frame.begin(), frame.begin() + 19), linktype::linux_sll2).malformed ==
        decode::Malformed::link_truncated);
  // Exactly the link header: the IP stage reports the missing header.
  CHECK(run_decode(Bytes(frame.begin(), frame.begin() + 20), linktype::linux_sll2).malformed ==
        decode::Malformed::ipv4_truncated);
}

TEST_CASE("decode overwrites every field of a reused DecodedPacket", "[decode]") {
  const Bytes good = lastack::synth::build_frame(full_spec(false));
  Bytes arp = good;
  arp[12] = 0x08;
  arp[13] = 0x06;
  lastack::capture::RawFrame frame;
  frame.link_type = linktype::ethernet;
  frame.bytes = lastack::ByteView(good.data(), good.size());
  decode::DecodedPacket out;
  decode::decode_frame(frame, out);
  REQUIRE(out.outcome == decode::Outcome::tcp);
  frame.bytes = lastack::ByteView(arp.data(), arp.size());
  decode::decode_frame(frame, out);
  CHECK(out.outcome == decode::Outcome::not_ip);
  CHECK(out.ip_version == 0);
  CHECK(out.tcp.src_port == 0);
  CHECK_FALSE(out.tcp.options.has_mss);
}
