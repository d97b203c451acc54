// TCP header (RFC 9293 §3.1) and the options the analysis reads: MSS, window scale, SACK
// (RFC 2018), timestamps (RFC 7323) and Fast Open (RFC 7413).
//
// A malformed option list makes the whole packet `malformed` (reason tcp_bad_options) and it is
// not analysed. Receivers differ here (Linux stops parsing options and still processes the
// segment), but a sender that corrupts its options cannot be trusted on the rest of the header
// either, and counting it keeps the report honest about what was skipped.
#include <algorithm>
#include <cstdint>

#include "decode/layers.h"

namespace lastack::decode::detail {
namespace {

namespace kind {
constexpr std::uint8_t eol = 0;
constexpr std::uint8_t nop = 1;
constexpr std::uint8_t mss = 2;
constexpr std::uint8_t wscale = 3;
constexpr std::uint8_t sack_permitted = 4;
constexpr std::uint8_t sack = 5;
constexpr std::uint8_t timestamps = 8;
constexpr std::uint8_t fast_open = 34;
constexpr std::uint8_t experimental = 254;  // RFC 6994 shared experimental kind
}  // namespace kind

constexpr std::uint16_t kTfoExperimentId = 0xF989;  // RFC 7413 §4.1.1 pre-assignment ExID

enum class OptStatus : std::uint8_t { ok, bad };

// Reads one option of `len` bytes at `o` (kind and length included).
OptStatus read_option(const std::uint8_t* o, std::size_t len, TcpOptions& opts) {
  switch (o[0]) {
    case kind::mss:
      if (len != 4) return OptStatus::bad;
      opts.has_mss = true;
      opts.mss = load_u16be(o + 2);
      return OptStatus::ok;
    case kind::wscale:
      if (len != 3) return OptStatus::bad;
      opts.has_wscale = true;
      opts.wscale = o[2];
      return OptStatus::ok;
    case kind::sack_permitted:
      if (len != 2) return OptStatus::bad;
      opts.sack_permitted = true;
      return OptStatus::ok;
    case kind::sack:
      // 1..4 blocks of two 32-bit edges (RFC 2018 §3); 4 is all 40 option bytes allow.
      if (len < 10 || len > 34 || (len - 2) % 8 != 0) return OptStatus::bad;
      opts.sack_blocks = static_cast<std::uint8_t>((len - 2) / 8);
      return OptStatus::ok;
    case kind::timestamps:
      if (len != 10) return OptStatus::bad;
      opts.has_timestamps = true;
      opts.ts_val = load_u32be(o + 2);
      opts.ts_ecr = load_u32be(o + 6);
      return OptStatus::ok;
    case kind::fast_open:
      // Cookie request (no cookie) or a 4..16-byte cookie (RFC 7413 §4.1.1).
      if (len != 2 && (len < 6 || len > 18)) return OptStatus::bad;
      opts.has_fast_open = true;
      return OptStatus::ok;
    case kind::experimental:
      if (len >= 4 && load_u16be(o + 2) == kTfoExperimentId) opts.has_fast_open = true;
      return OptStatus::ok;
    default: return OptStatus::ok;  // unknown kinds are skipped by their length (RFC 9293 §3.2)
  }
}

// `opts_len` is the option space the data offset declares; only `have` bytes of it were
// captured. An option that would run past the declared space is malformed; one that runs past
// the captured bytes only (snaplen cut) ends parsing quietly.
OptStatus parse_options(const std::uint8_t* o, std::size_t opts_len, std::size_t have,
                        TcpOptions& opts) {
  // The layout RFC 7323 Appendix A recommends, and the one Linux sends on every segment after
  // the handshake: NOP, NOP, timestamps. Read directly (as Linux's receive path does); the loop
  // below gives the same result for it, one option at a time.
  constexpr std::uint32_t kAlignedTimestamps = 0x0101080A;
  if (have == 12 && opts_len == 12 && load_u32be(o) == kAlignedTimestamps) {
    opts.has_timestamps = true;
    opts.ts_val = load_u32be(o + 4);
    opts.ts_ecr = load_u32be(o + 8);
    return OptStatus::ok;
  }
  std::size_t i = 0;
  while (i < have) {
    const std::uint8_t k = o[i];
    if (k == kind::eol) break;
    if (k == kind::nop) {
      ++i;
      continue;
    }
    if (i + 1 >= opts_len) return OptStatus::bad;  // no room for a length byte
    if (i + 1 >= have) break;
    const std::size_t len = o[i + 1];
    if (len < 2 || i + len > opts_len) return OptStatus::bad;
    if (i + len > have) break;
    if (read_option(o + i, len, opts) == OptStatus::bad) return OptStatus::bad;
    i += len;
  }
  return OptStatus::ok;
}

}  // namespace

void decode_tcp(ByteView segment, std::uint32_t ip_payload_len, DecodedPacket& out) {
  constexpr std::size_t kMinHeader = 20;
  if (ip_payload_len < kMinHeader || segment.size() < kMinHeader) {
    return set_malformed(out, Malformed::tcp_truncated);
  }
  const std::uint8_t* p = segment.data();
  TcpHeader& tcp = out.tcp;
  tcp.src_port = load_u16be(p);
  tcp.dst_port = load_u16be(p + 2);
  tcp.seq = SeqNum(load_u32be(p + 4));
  tcp.ack = SeqNum(load_u32be(p + 8));
  tcp.flags = p[13];
  tcp.window = load_u16be(p + 14);
  tcp.checksum = load_u16be(p + 16);

  const std::size_t header_len = std::size_t{p[12]} >> 4 << 2;  // 32-bit words
  if (header_len < kMinHeader || header_len > ip_payload_len) {
    return set_malformed(out, Malformed::tcp_bad_offset);
  }
  tcp.header_len = static_cast<std::uint8_t>(header_len);
  tcp.options_complete = header_len <= segment.size();
  const std::size_t have = std::min(header_len, segment.size()) - kMinHeader;
  if (parse_options(p + kMinHeader, header_len - kMinHeader, have, tcp.options) == OptStatus::bad) {
    return set_malformed(out, Malformed::tcp_bad_options);
  }
  tcp.payload_len = ip_payload_len - static_cast<std::uint32_t>(header_len);
  const std::size_t present = segment.size() > header_len ? segment.size() - header_len : 0;
  tcp.captured_payload =
      static_cast<std::uint32_t>(std::min<std::size_t>(present, tcp.payload_len));
  out.outcome = Outcome::tcp;
}

}  // namespace lastack::decode::detail
