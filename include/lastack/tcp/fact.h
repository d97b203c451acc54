// Facts: what the state machine observed at the moments that matter for a close (SYNs, FINs,
// RSTs, ACKs of a FIN, data after a close, segments of an older incarnation). Detectors judge
// facts; the state machine never judges. A connection keeps a bounded list of them.
#pragma once

#include <cstdint>

#include "lastack/core/frame_ref.h"
#include "lastack/core/seq_num.h"
#include "lastack/core/timestamp.h"
#include "lastack/tcp/tcp_state.h"

namespace lastack::tcp {

namespace fact_tag {
inline constexpr std::uint32_t retransmission = 1 << 0;    // re-sends sequence space already sent
inline constexpr std::uint32_t duplicate = 1 << 1;         // the same frame captured twice
inline constexpr std::uint32_t acks_peer_fin = 1 << 2;     // ack covers the peer's FIN
inline constexpr std::uint32_t first_fin_ack = 1 << 3;     // … for the first time
inline constexpr std::uint32_t after_peer_fin = 1 << 4;    // new data sent after the peer's FIN
inline constexpr std::uint32_t stale = 1 << 5;             // fits the previous incarnation only
inline constexpr std::uint32_t stale_in_window = 1 << 6;   // … and lies in this one's window
inline constexpr std::uint32_t probe = 1 << 7;             // keep-alive / zero-window probe
inline constexpr std::uint32_t gap_before = 1 << 8;        // starts beyond anything seen: loss
inline constexpr std::uint32_t new_data = 1 << 9;          // carries never-seen payload
inline constexpr std::uint32_t fin_seq_changed = 1 << 10;  // a FIN at another fin_seq
inline constexpr std::uint32_t rst_exact = 1 << 11;        // RST seq == the receiver's next
inline constexpr std::uint32_t rst_in_window = 1 << 12;    // RST seq inside the receiver's window
inline constexpr std::uint32_t syn_new_isn = 1 << 13;      // SYN retry with another ISN
inline constexpr std::uint32_t after_own_fin = 1 << 14;    // sent after this side's own FIN
inline constexpr std::uint32_t stale_ack_ok = 1 << 15;     // its ack is acceptable to the new one
inline constexpr std::uint32_t stale_paws = 1 << 16;       // its TSval is older than the new one's
                                                           // latest: PAWS drops it (RFC 7323 §5)
inline constexpr std::uint32_t ts_cut = 1 << 17;           // the snaplen cut its options before a
                                                           // timestamp could be read
}  // namespace fact_tag

struct Fact {
  Timestamp ts;
  FrameRef frame;
  SeqNum seq;
  SeqNum ack;
  std::uint32_t len = 0;
  std::uint32_t ts_val = 0;
  // Bytes in flight at this segment, as far as the capture shows: what the sender sent that the
  // receiver has not acknowledged, and what the receiver sent that the sender has not.
  std::uint32_t unacked_by_peer = 0;
  std::uint32_t unacked_by_self = 0;
  std::uint32_t tags = 0;
  std::uint8_t flags = 0;
  Role from = Role::client;
  bool has_ts = false;
  // For a stale segment: how the receiver answered next (none, ack, rst, data).
  enum class Reaction : std::uint8_t { none, ack, rst, data } reaction = Reaction::none;
  TcpState self_before = TcpState::closed;  // sender's state before / after the segment
  TcpState self_after = TcpState::closed;
  TcpState peer_before = TcpState::closed;  // receiver's state before / after
  TcpState peer_after = TcpState::closed;

  [[nodiscard]] bool has(std::uint32_t tag) const { return (tags & tag) != 0; }
};

}  // namespace lastack::tcp
