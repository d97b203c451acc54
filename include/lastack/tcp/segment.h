// A TCP segment as a small value: what the state machine needs of one packet, copied out of the
// decoded view (views stop at decode; from here on only values).
#pragma once

#include <cstdint>

#include "lastack/core/frame_ref.h"
#include "lastack/core/seq_num.h"
#include "lastack/core/timestamp.h"
#include "lastack/decode/decoded_packet.h"

namespace lastack::tcp {

struct Segment {
  FrameRef frame;
  Timestamp ts;
  SeqNum seq;
  SeqNum ack;
  std::uint32_t len = 0;  // payload length (from the IP header)
  std::uint8_t flags = 0;
  std::uint16_t window = 0;  // raw
  std::int8_t wscale = -1;   // window scale option on a SYN, -1 when absent
  bool has_ts = false;
  bool fast_open = false;
  // The snaplen cut this segment's TCP options: an option the capture did not keep (a timestamp,
  // a window scale) may have been sent. Flags, sequence numbers, window and checksum are in the
  // fixed header and always present; the payload length comes from the IP header.
  bool options_cut = false;
  std::uint8_t ttl = 0;
  std::uint16_t ip_id = 0;
  std::uint16_t checksum = 0;
  std::uint32_t ts_val = 0;
  std::uint32_t ts_ecr = 0;

  // The options were cut before a timestamp could be read: whether it carried one is unknown.
  [[nodiscard]] bool ts_unknown() const { return options_cut && !has_ts; }
  [[nodiscard]] bool has(std::uint8_t f) const { return (flags & f) != 0; }
  [[nodiscard]] bool syn() const { return has(decode::tcp_flag::syn); }
  [[nodiscard]] bool fin() const { return has(decode::tcp_flag::fin); }
  [[nodiscard]] bool rst() const { return has(decode::tcp_flag::rst); }
  [[nodiscard]] bool ack_flag() const { return has(decode::tcp_flag::ack); }
  // Sequence space consumed: payload plus one for SYN and one for FIN (RFC 9293 §3.4).
  [[nodiscard]] std::uint32_t seq_space() const {
    return len + (syn() ? 1U : 0U) + (fin() ? 1U : 0U);
  }
  [[nodiscard]] SeqNum end() const { return seq + seq_space(); }
  // Sequence number the FIN occupies (valid when fin()).
  [[nodiscard]] SeqNum fin_seq() const { return seq + len + (syn() ? 1U : 0U); }
};

Segment make_segment(const capture::RawFrame& frame, const decode::DecodedPacket& pkt);

}  // namespace lastack::tcp
