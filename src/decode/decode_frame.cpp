// Link layers: find where the IP header starts for every link type lastack reads, then hand the
// rest of the frame to the IP stage. Link-type numbers and header layouts follow the tcpdump.org
// link-layer header registry (LINKTYPE_*).
#include <cstdint>

#include "decode/layers.h"
#include "lastack/capture/raw_frame.h"
#include "lastack/decode/decoded_packet.h"

namespace lastack::decode {
namespace {

using detail::set_malformed;

namespace ethertype {
constexpr std::uint16_t ipv4 = 0x0800;
constexpr std::uint16_t ipv6 = 0x86DD;
constexpr std::uint16_t vlan = 0x8100;        // IEEE 802.1Q C-tag
constexpr std::uint16_t qinq = 0x88A8;        // IEEE 802.1ad S-tag
constexpr std::uint16_t qinq_old = 0x9100;    // pre-802.1ad vendor QinQ
constexpr std::uint16_t mpls = 0x8847;        // RFC 3032 unicast
constexpr std::uint16_t mpls_mc = 0x8848;     // RFC 5332 multicast
constexpr std::uint16_t max_length = 0x05DC;  // <= 1500: IEEE 802.3 length, not a type
}  // namespace ethertype

// Address-family values BSD loopback headers carry: AF_INET is 2 everywhere, AF_INET6 differs
// per OS (24 NetBSD/OpenBSD, 28 FreeBSD, 30 macOS).
constexpr std::uint32_t kAfInet = 2;
bool is_bsd_af_inet6(std::uint32_t af) {
  return af == 24 || af == 28 || af == 30;
}

bool is_vlan_type(std::uint16_t type) {
  return type == ethertype::vlan || type == ethertype::qinq || type == ethertype::qinq_old;
}

// RFC 3032 §2.1: a label stack of 4-byte entries ending with the bottom-of-stack bit. MPLS does
// not name its payload; like Wireshark and Zeek we look at the IP version nibble.
void decode_mpls(ByteCursor c, std::size_t missing, DecodedPacket& out) {
  for (int labels = 0;; ++labels) {
    if (labels == detail::kMaxLinkTags) return set_malformed(out, Malformed::vlan_too_deep);
    std::uint32_t entry = 0;
    if (!c.read_u32be(entry)) return set_malformed(out, Malformed::link_truncated);
    if ((entry & 0x100u) != 0) break;  // S bit
  }
  const ByteView rest = c.rest();
  if (rest.empty()) return set_malformed(out, Malformed::link_truncated);
  const int version = rest[0] >> 4;
  // Nibble 0 is a pseudowire control word (RFC 4385), e.g. Ethernet over MPLS: not IP here.
  if (version != 4 && version != 6) {
    out.outcome = Outcome::not_ip;
    return;
  }
  detail::decode_ip_by_version(rest, missing, out);
}

// Everything after an EtherType field: VLAN tags (4 bytes each: TCI, next type), MPLS, IP.
// Ethernet, SLL and SLL2 all continue here, since Linux keeps unstripped tags after the type.
void decode_ethertype(std::uint16_t type, ByteCursor c, std::size_t missing, DecodedPacket& out) {
  for (int tags = 0; is_vlan_type(type); ++tags) {
    if (tags == detail::kMaxLinkTags) return set_malformed(out, Malformed::vlan_too_deep);
    std::uint16_t tci = 0;
    if (!c.read_u16be(tci) || !c.read_u16be(type)) {
      return set_malformed(out, Malformed::link_truncated);
    }
    out.vlan_id = static_cast<std::uint16_t>(tci & 0x0FFFu);  // innermost tag wins
  }
  switch (type) {
    case ethertype::ipv4: return detail::decode_ipv4(c.rest(), missing, out);
    case ethertype::ipv6: return detail::decode_ipv6(c.rest(), missing, out);
    case ethertype::mpls:
    case ethertype::mpls_mc: return decode_mpls(c, missing, out);
    default: out.outcome = Outcome::not_ip; return;  // ARP, LLDP, 802.3 length, …
  }
}

void decode_ethernet(ByteView bytes, std::size_t missing, DecodedPacket& out) {
  ByteCursor c(bytes);
  std::uint16_t type = 0;
  if (!c.skip(12) || !c.read_u16be(type)) return set_malformed(out, Malformed::link_truncated);
  if (type <= ethertype::max_length) {
    out.outcome = Outcome::not_ip;  // 802.3 + LLC; IP over SNAP is not seen in practice
    return;
  }
  decode_ethertype(type, c, missing, out);
}

// Linux "cooked" v1: packet type, ARPHRD, address length, 8 address bytes, protocol (offset 14).
void decode_sll(ByteView bytes, std::size_t missing, DecodedPacket& out) {
  ByteCursor c(bytes);
  std::uint16_t protocol = 0;
  if (!c.skip(14) || !c.read_u16be(protocol)) return set_malformed(out, Malformed::link_truncated);
  decode_ethertype(protocol, c, missing, out);
}

// Linux "cooked" v2: protocol first (offset 0), then reserved, ifindex, ARPHRD, packet type,
// address length and 8 address bytes: 20 bytes in all.
void decode_sll2(ByteView bytes, std::size_t missing, DecodedPacket& out) {
  ByteCursor c(bytes);
  std::uint16_t protocol = 0;
  if (!c.read_u16be(protocol) || !c.skip(18)) return set_malformed(out, Malformed::link_truncated);
  decode_ethertype(protocol, c, missing, out);
}

void decode_by_af(std::uint32_t af, ByteView rest, std::size_t missing, DecodedPacket& out) {
  if (af == kAfInet) return detail::decode_ipv4(rest, missing, out);
  if (is_bsd_af_inet6(af)) return detail::decode_ipv6(rest, missing, out);
  out.outcome = Outcome::not_ip;
}

// DLT_NULL: a 4-byte AF in the byte order of the capturing host, which the file does not
// record. AF values are small, so a value with upper bits set is the other byte order (the same
// test Wireshark and libpcap use).
void decode_null(ByteView bytes, std::size_t missing, DecodedPacket& out) {
  ByteCursor c(bytes);
  std::uint32_t af = 0;
  if (!c.read_u32le(af)) return set_malformed(out, Malformed::link_truncated);
  if ((af & 0xFFFF0000u) != 0) af = load_u32be(bytes.data());
  decode_by_af(af, c.rest(), missing, out);
}

// LINKTYPE_LOOP (OpenBSD): the same AF word, always in network byte order.
void decode_loop(ByteView bytes, std::size_t missing, DecodedPacket& out) {
  ByteCursor c(bytes);
  std::uint32_t af = 0;
  if (!c.read_u32be(af)) return set_malformed(out, Malformed::link_truncated);
  decode_by_af(af, c.rest(), missing, out);
}

void decode_raw(ByteView bytes, std::size_t missing, DecodedPacket& out) {
  if (bytes.empty()) return set_malformed(out, Malformed::link_truncated);
  detail::decode_ip_by_version(bytes, missing, out);
}

// NFLOG TLV length and type are in the logging host's byte order (libpcap pcap/nflog.h). Types
// are small (NFULA_* < 32) apart from the two netlink flag bits, so the order in which the first
// type reads as a small number is the host's.
bool nflog_little_endian(const std::uint8_t* tlv) {
  constexpr std::uint16_t kTypeMask = 0x3FFF;  // strip NLA_F_NESTED / NLA_F_NET_BYTEORDER
  const auto le_type = static_cast<std::uint16_t>(load_u16le(tlv + 2) & kTypeMask);
  const auto be_type = static_cast<std::uint16_t>(load_u16be(tlv + 2) & kTypeMask);
  return le_type <= 0xFF || be_type > 0xFF;
}

// LINKTYPE_NFLOG: 4-byte header (family, version, resource id), then TLVs each padded to 4
// bytes; the packet is in NFULA_PAYLOAD (type 9), starting at its IP header.
void decode_nflog(ByteView bytes, std::size_t missing, DecodedPacket& out) {
  constexpr std::uint16_t kNfulaPayload = 9;
  constexpr std::uint8_t kNfprotoIpv4 = 2;
  constexpr std::uint8_t kNfprotoIpv6 = 10;
  if (bytes.size() < 4) return set_malformed(out, Malformed::link_truncated);
  const std::uint8_t family = bytes[0];
  std::size_t pos = 4;
  const bool little = bytes.size() >= 8 && nflog_little_endian(bytes.data() + 4);
  while (bytes.size() - pos >= 4) {
    const std::uint8_t* tlv = bytes.data() + pos;
    const std::uint16_t len = little ? load_u16le(tlv) : load_u16be(tlv);
    const std::uint16_t type = (little ? load_u16le(tlv + 2) : load_u16be(tlv + 2)) & 0x3FFF;
    if (len < 4) return set_malformed(out, Malformed::link_truncated);
    if (type == kNfulaPayload) {
      // A snaplen cut may end the frame inside the payload TLV: take what is present.
      const std::size_t avail = bytes.size() - pos - 4;
      const ByteView ip = bytes.subspan(pos + 4, len - 4u < avail ? len - 4u : avail);
      if (family == kNfprotoIpv4) return detail::decode_ipv4(ip, missing, out);
      if (family == kNfprotoIpv6) return detail::decode_ipv6(ip, missing, out);
      // Other families (NFPROTO_INET, bridge) still log from the network header on.
      if (!ip.empty() && ((ip[0] >> 4) == 4 || (ip[0] >> 4) == 6)) {
        return detail::decode_ip_by_version(ip, missing, out);
      }
      out.outcome = Outcome::not_ip;
      return;
    }
    const std::size_t padded = (std::size_t{len} + 3u) & ~std::size_t{3};
    if (padded > bytes.size() - pos) break;  // a non-payload TLV cut by snaplen: no payload
    pos += padded;
  }
  out.outcome = Outcome::not_ip;  // no payload TLV (e.g. a log entry without the packet)
}

}  // namespace

std::span<const std::uint32_t> supported_link_types() {
  namespace lt = capture::linktype;
  static constexpr std::uint32_t kSupported[] = {
      lt::ethernet, lt::linux_sll, lt::linux_sll2,    lt::raw,  lt::raw_dlt12, lt::raw_dlt14,
      lt::ipv4,     lt::ipv6,      lt::null_loopback, lt::loop, lt::nflog};
  return kSupported;
}

void decode_frame(const capture::RawFrame& frame, DecodedPacket& out) {
  out = DecodedPacket{};
  const ByteView b = frame.bytes;
  // Bytes the snaplen cut off; 0 when orig_len is unknown (0) or not larger than caplen.
  const std::size_t m = frame.orig_len > b.size() ? frame.orig_len - b.size() : 0;
  switch (frame.link_type) {
    case capture::linktype::ethernet: return decode_ethernet(b, m, out);
    case capture::linktype::linux_sll: return decode_sll(b, m, out);
    case capture::linktype::linux_sll2: return decode_sll2(b, m, out);
    case capture::linktype::raw:
    case capture::linktype::raw_dlt12:
    case capture::linktype::raw_dlt14: return decode_raw(b, m, out);
    case capture::linktype::ipv4: return detail::decode_ipv4(b, m, out);
    case capture::linktype::ipv6: return detail::decode_ipv6(b, m, out);
    case capture::linktype::null_loopback: return decode_null(b, m, out);
    case capture::linktype::loop: return decode_loop(b, m, out);
    case capture::linktype::nflog: return decode_nflog(b, m, out);
    default: out.outcome = Outcome::unsupported_link; return;
  }
}

}  // namespace lastack::decode
