// One endpoint of an incarnation: its RFC 9293 state and the few numbers and moments the
// detectors need (a few hundred bytes; no per-segment history).
#pragma once

#include <array>
#include <cstdint>

#include "lastack/core/frame_ref.h"
#include "lastack/core/seq_num.h"
#include "lastack/core/timestamp.h"
#include "lastack/tcp/tcp_state.h"

namespace lastack::tcp {

// When and where something happened.
struct Moment {
  Timestamp ts;
  FrameRef frame;
  bool seen = false;
};

struct EndpointCounters {
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;
  std::uint32_t syns = 0;
  std::uint32_t fins = 0;
  std::uint32_t rsts = 0;
  std::uint32_t retransmissions = 0;
  std::uint32_t duplicates = 0;
};

// Fields are grouped by size (flags and small numbers first) so that the two endpoints of every
// tracked connection carry little padding, and what every segment touches comes before the
// moments, so that it spans few cache lines.
struct Endpoint {
  TcpState state = TcpState::closed;

  // Sequence space this endpoint sent (serial arithmetic throughout).
  bool isn_known = false;
  bool sent_any = false;
  bool ack_any = false;
  SeqNum isn;
  SeqNum snd_low;                 // lowest sequence number seen (ISN when known)
  SeqNum snd_max;                 // highest end of sequence space seen
  SeqNum ack_max;                 // highest ack sent
  std::uint32_t window_max = 0;   // largest advertised receive window, scaled, in bytes
  std::uint32_t last_window = 0;  // last advertised receive window, scaled
  std::int8_t wscale = -1;        // from its SYN; -1 when absent

  // Its FIN: fin_seq is the sequence number the FIN occupies (seq + payload length).
  bool fin_sent = false;
  std::uint16_t first_fin_ip_id = 0;
  SeqNum fin_seq;
  std::uint32_t fin_transmissions = 0;  // duplicates excluded

  // RFC 7323 timestamps.
  bool ts_seen = false;
  // Options the snaplen cut (README: Inputs): a segment of this side lost its options before a
  // timestamp could be read (so ts_first/ts_last may not be its real ones); one of its SYNs did
  // (its TSval, which RFC 6191 judges, is unknown); its SYN's options were cut before a window
  // scale option could be read (whether RFC 7323 window scaling is on is unknown).
  bool ts_cut = false;
  bool syn_ts_cut = false;
  bool syn_wscale_cut = false;
  // IPv4 identification: Linux numbers a connected socket's packets sequentially from a random
  // start, so an id far from this run but inside an older incarnation's run marks a copy.
  bool ip_id_sequential = true;
  bool gap_seen = false;      // a segment started beyond snd_max: something was not captured
  bool acked_unseen = false;  // the peer acknowledged more than we saw this endpoint send
  std::uint32_t ts_first = 0;
  std::uint32_t ts_last = 0;
  std::uint16_t ip_id_first = 0;
  std::uint16_t ip_id_last = 0;
  std::uint8_t first_ttl = 0;
  std::uint8_t recent_next = 0;  // ring position in `recent` (below)
  std::uint8_t recent_count = 0;

  Timestamp last_ts;
  EndpointCounters counters;

  // Signatures of the last few segments, to tell a duplicate capture from a retransmission.
  struct Signature {
    Timestamp ts;
    std::uint32_t seq = 0;
    std::uint32_t ack = 0;
    std::uint32_t len = 0;
    std::uint16_t ip_id = 0;
    std::uint16_t checksum = 0;
    std::uint8_t flags = 0;
  };
  std::array<Signature, 4> recent{};

  // Moments: written once or on events, so kept after what every segment touches.
  Moment first_fin;
  Moment fin_acked;            // the peer's first ACK covering fin_seq + 1
  Moment acked_peer_fin;       // this endpoint's first ACK covering the peer's fin_seq + 1
  Moment time_wait_entered;    // first entry into TIME_WAIT (its final ACK, or its FIN acked
                               // in CLOSING)
  Moment time_wait_restarted;  // last final ACK: RFC 9293 §3.10.7.4 restarts the 2MSL timer
  Moment first_rst;
  Moment first_syn;

  std::uint64_t bytes_after_peer_fin = 0;  // new payload sent after the peer's FIN
  Moment first_data_after_peer_fin;
  Moment last_new_data;
};

// The sequence space one side used, as far as the capture shows: enough to tell whether a
// later segment belongs to this incarnation.
struct SeqSpace {
  bool known = false;      // an ISN or any segment of this side was seen
  bool isn_known = false;  // `low` is the ISN (else the lowest sequence number seen)
  SeqNum low;
  SeqNum high;                   // highest end of sequence space seen (ISN + 1 before any data)
  std::uint32_t window_max = 0;  // largest window this side advertised
};

SeqSpace seq_space_of(const Endpoint& e);

struct Segment;
// RFC 9293 §3.4-style test: the segment's seq lies in `self`'s space (up to a window beyond
// what was seen) and its ack in `peer`'s. Unknown spaces accept anything.
bool fits_spaces(const SeqSpace& self, const SeqSpace& peer, const Segment& s);

}  // namespace lastack::tcp
