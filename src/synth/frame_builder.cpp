// Exact frames for tests and samples. Byte layouts follow the same references as decode (RFC 791,
// RFC 8200, RFC 9293, tcpdump.org LINKTYPE_* registry) but are written independently, so a
// round trip through decode checks both sides.
#include "lastack/synth/frame_builder.h"

#include <cstdint>
#include <vector>

#include "lastack/capture/raw_frame.h"

namespace lastack::synth {
namespace {

using Bytes = std::vector<std::uint8_t>;

constexpr std::uint8_t kProtoTcp = 6;
constexpr std::size_t kMaxOptionBytes = 40;  // data offset is 4 bits: 60-byte header at most

void put_u8(Bytes& b, std::uint32_t v) {
  b.push_back(static_cast<std::uint8_t>(v));
}
void put_u16be(Bytes& b, std::uint32_t v) {
  put_u8(b, v >> 8);
  put_u8(b, v);
}
void put_u32be(Bytes& b, std::uint32_t v) {
  put_u16be(b, v >> 16);
  put_u16be(b, v);
}
void put_u32le(Bytes& b, std::uint32_t v) {
  put_u8(b, v);
  put_u8(b, v >> 8);
  put_u8(b, v >> 16);
  put_u8(b, v >> 24);
}
void put_addr(Bytes& b, const IpAddress& a) {
  const std::size_t n = a.version == 6 ? 16 : 4;
  b.insert(b.end(), a.bytes.begin(), a.bytes.begin() + static_cast<std::ptrdiff_t>(n));
}
void store_u16be(Bytes& b, std::size_t at, std::uint32_t v) {
  b[at] = static_cast<std::uint8_t>(v >> 8);
  b[at + 1] = static_cast<std::uint8_t>(v);
}

// RFC 1071 one's-complement sum, folded by the caller.
std::uint32_t sum16(const std::uint8_t* p, std::size_t n, std::uint32_t acc = 0) {
  for (std::size_t i = 0; i + 1 < n; i += 2) acc += (std::uint32_t{p[i]} << 8) | p[i + 1];
  if (n % 2 != 0) acc += std::uint32_t{p[n - 1]} << 8;
  return acc;
}
std::uint16_t fold(std::uint32_t acc) {
  while ((acc >> 16) != 0) acc = (acc & 0xFFFFu) + (acc >> 16);
  return static_cast<std::uint16_t>(~acc & 0xFFFFu);
}

// Structured options in a fixed order (MSS, WS, SACK-permitted, TS), then the raw bytes, then
// NOPs up to a multiple of 4. TS is preceded by NOPs that align its values to 32 bits, as Linux
// and RFC 7323 Appendix A lay it out (NOP, NOP, TS on a segment that carries only TS). More
// than 40 bytes are cut to 40 (the header cannot hold more).
Bytes tcp_options(const TcpSegmentSpec& s) {
  Bytes o;
  if (s.mss) {
    put_u8(o, 2);
    put_u8(o, 4);
    put_u16be(o, *s.mss);
  }
  if (s.wscale) {
    put_u8(o, 3);
    put_u8(o, 3);
    put_u8(o, *s.wscale);
  }
  if (s.sack_permitted) {
    put_u8(o, 4);
    put_u8(o, 2);
  }
  if (s.ts_val) {
    while (o.size() % 4 != 2) put_u8(o, 1);
    put_u8(o, 8);
    put_u8(o, 10);
    put_u32be(o, *s.ts_val);
    put_u32be(o, s.ts_ecr);
  }
  o.insert(o.end(), s.raw_options.begin(), s.raw_options.end());
  while (o.size() % 4 != 0) put_u8(o, 1);
  if (o.size() > kMaxOptionBytes) o.resize(kMaxOptionBytes);
  return o;
}

// Readable in a hex dump and never all zeros: 'a'..'z' repeating.
void put_payload(Bytes& b, std::uint32_t len) {
  for (std::uint32_t i = 0; i < len; ++i) put_u8(b, 'a' + i % 26);
}

Bytes tcp_segment(const TcpSegmentSpec& s) {
  const Bytes options = tcp_options(s);
  Bytes t;
  t.reserve(20 + options.size() + s.payload_len);
  put_u16be(t, s.src_port);
  put_u16be(t, s.dst_port);
  put_u32be(t, s.seq);
  put_u32be(t, s.ack);
  put_u8(t, static_cast<std::uint32_t>((20 + options.size()) / 4) << 4);
  put_u8(t, s.flags);
  put_u16be(t, s.window);
  put_u16be(t, 0);  // checksum, filled below
  put_u16be(t, 0);  // urgent pointer
  t.insert(t.end(), options.begin(), options.end());
  put_payload(t, s.payload_len);
  return t;
}

// TCP checksum over the pseudo-header (RFC 9293 §3.1 for IPv4, RFC 8200 §8.1 for IPv6).
void set_tcp_checksum(Bytes& t, const IpAddress& src, const IpAddress& dst) {
  const std::size_t addr_len = src.version == 6 ? 16 : 4;
  std::uint32_t acc = sum16(src.bytes.data(), addr_len);
  acc = sum16(dst.bytes.data(), addr_len, acc);
  const auto len = static_cast<std::uint32_t>(t.size());
  acc += (len >> 16) + (len & 0xFFFFu) + kProtoTcp;
  store_u16be(t, 16, fold(sum16(t.data(), t.size(), acc)));
}

Bytes ipv4_packet(const TcpSegmentSpec& s, const Bytes& tcp) {
  Bytes ip;
  ip.reserve(20 + tcp.size());
  put_u8(ip, 0x45);  // version 4, IHL 5
  put_u8(ip, 0);     // DSCP/ECN
  put_u16be(ip, static_cast<std::uint32_t>(20 + tcp.size()));
  put_u16be(ip, s.ip_id);
  put_u16be(ip, 0x4000);  // DF, as every modern stack sends TCP (RFC 1191 path MTU discovery)
  put_u8(ip, s.ttl);
  put_u8(ip, kProtoTcp);
  put_u16be(ip, 0);  // header checksum, filled below
  put_addr(ip, s.src);
  put_addr(ip, s.dst);
  store_u16be(ip, 10, fold(sum16(ip.data(), 20)));
  ip.insert(ip.end(), tcp.begin(), tcp.end());
  return ip;
}

Bytes ipv6_packet(const TcpSegmentSpec& s, const Bytes& tcp) {
  Bytes ip;
  ip.reserve(40 + tcp.size());
  put_u32be(ip, 0x60000000u);  // version 6, traffic class 0, flow label 0
  put_u16be(ip, static_cast<std::uint32_t>(tcp.size()));
  put_u8(ip, kProtoTcp);
  put_u8(ip, s.ttl);
  put_addr(ip, s.src);
  put_addr(ip, s.dst);
  ip.insert(ip.end(), tcp.begin(), tcp.end());
  return ip;
}

// Locally administered MACs derived from the IP, so each host keeps one address.
void put_mac(Bytes& b, const IpAddress& a) {
  const std::size_t last = a.version == 6 ? 12 : 0;
  put_u8(b, 0x02);
  put_u8(b, 0x00);
  for (std::size_t i = 0; i < 4; ++i) put_u8(b, a.bytes[last + i]);
}

void put_ethernet(Bytes& f, const TcpSegmentSpec& s, std::uint16_t ethertype) {
  put_mac(f, s.dst);
  put_mac(f, s.src);
  for (const std::uint16_t vid : s.vlan_ids) {
    put_u16be(f, 0x8100);
    put_u16be(f, vid & 0x0FFFu);  // PCP 0, DEI 0
  }
  put_u16be(f, ethertype);
}

// Linux cooked v1: packet type 0 (to us), ARPHRD_ETHER, 6-byte address padded to 8.
void put_sll(Bytes& f, const TcpSegmentSpec& s, std::uint16_t ethertype) {
  put_u16be(f, 0);
  put_u16be(f, 1);
  put_u16be(f, 6);
  put_mac(f, s.src);
  put_u16be(f, 0);
  put_u16be(f, ethertype);
}

// Linux cooked v2: protocol, reserved, ifindex 1, ARPHRD_ETHER, packet type 0, address.
void put_sll2(Bytes& f, const TcpSegmentSpec& s, std::uint16_t ethertype) {
  put_u16be(f, ethertype);
  put_u16be(f, 0);
  put_u32be(f, 1);
  put_u16be(f, 1);
  put_u8(f, 0);
  put_u8(f, 6);
  put_mac(f, s.src);
  put_u16be(f, 0);
}

// BSD loopback AF in little-endian host order. AF_INET6 differs per BSD; we write 24 (NetBSD,
// OpenBSD), which decode accepts along with FreeBSD's 28 and macOS's 30.
void put_null(Bytes& f, bool v6) {
  put_u32le(f, v6 ? 24u : 2u);
}

}  // namespace

std::vector<std::uint8_t> build_frame(const TcpSegmentSpec& spec, Link link) {
  const bool v6 = spec.src.version == 6;
  Bytes tcp = tcp_segment(spec);
  set_tcp_checksum(tcp, spec.src, spec.dst);
  const Bytes ip = v6 ? ipv6_packet(spec, tcp) : ipv4_packet(spec, tcp);
  const std::uint16_t ethertype = v6 ? 0x86DD : 0x0800;

  Bytes frame;
  frame.reserve(ip.size() + 14 + 4 * spec.vlan_ids.size());
  switch (link) {
    case Link::ethernet: put_ethernet(frame, spec, ethertype); break;
    case Link::linux_sll: put_sll(frame, spec, ethertype); break;
    case Link::linux_sll2: put_sll2(frame, spec, ethertype); break;
    case Link::raw_ip: break;
    case Link::null_loopback: put_null(frame, v6); break;
  }
  frame.insert(frame.end(), ip.begin(), ip.end());
  return frame;
}

std::uint32_t link_type_of(Link link) {
  switch (link) {
    case Link::ethernet: return capture::linktype::ethernet;
    case Link::linux_sll: return capture::linktype::linux_sll;
    case Link::linux_sll2: return capture::linktype::linux_sll2;
    case Link::raw_ip: return capture::linktype::raw;
    case Link::null_loopback: return capture::linktype::null_loopback;
  }
  return capture::linktype::ethernet;
}

}  // namespace lastack::synth
