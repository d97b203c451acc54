// The two-endpoint RFC 9293 state machine. Each endpoint's state is driven by what it sent and
// what it acknowledged (the capture shows sent segments; an ACK proves receipt of what it
// covers). Every handler is written once for (self, peer) and selected by direction.
#include "lastack/tcp/connection.h"

#include <algorithm>
#include <memory>

#include "lastack/core/huge_pages.h"

namespace lastack::tcp {

namespace {

using decode::tcp_flag::fin;
using decode::tcp_flag::rst;
using decode::tcp_flag::syn;

// A capture of the same frame twice (mirror port, two interfaces) repeats every header field
// within a millisecond; a retransmission never does (RTO >= 200 ms, new IP id or TSval).
constexpr Duration kDuplicateWindow = Duration::from_ms(1);

Moment moment_of(const Segment& s) {
  return Moment{s.ts, s.frame, true};
}

bool acks_beyond(const Segment& s, SeqNum seq) {
  return s.ack_flag() && s.ack.since(seq) >= 1;
}

// Self acknowledged the peer's FIN (RFC 9293 §3.10.7.4, FIN bit processing).
TcpState on_acking_peer_fin(TcpState s) {
  switch (s) {
    case TcpState::syn_received:
    case TcpState::established: return TcpState::close_wait;
    case TcpState::fin_wait_1: return TcpState::closing;  // simultaneous close
    case TcpState::fin_wait_2: return TcpState::time_wait;
    default: return s;
  }
}

// The peer acknowledged self's FIN.
TcpState on_own_fin_acked(TcpState s) {
  switch (s) {
    case TcpState::fin_wait_1: return TcpState::fin_wait_2;
    case TcpState::closing: return TcpState::time_wait;
    case TcpState::last_ack: return TcpState::closed;
    default: return s;
  }
}

// Self sent its first FIN.
TcpState on_sending_fin(TcpState s) {
  switch (s) {
    case TcpState::close_wait: return TcpState::last_ack;
    case TcpState::closed:
    case TcpState::listen:
    case TcpState::syn_sent:
    case TcpState::syn_received:
    case TcpState::established: return TcpState::fin_wait_1;
    default: return s;
  }
}

// Self re-sent a FIN the model thought acknowledged: the ACK never reached it, so it is still
// waiting for one (LAST_ACK or FIN_WAIT_1).
TcpState on_fin_resent(TcpState s) {
  switch (s) {
    case TcpState::closed: return TcpState::last_ack;
    case TcpState::fin_wait_2: return TcpState::fin_wait_1;
    default: return s;
  }
}

std::uint32_t unacked(const Endpoint& sender, const Endpoint& receiver) {
  if (!sender.sent_any || !receiver.ack_any) return 0;
  const std::int32_t d = sender.snd_max.since(receiver.ack_max);
  return d > 0 ? static_cast<std::uint32_t>(d) : 0;
}

}  // namespace

void* Connection::operator new(std::size_t bytes) {
  if (!kHugePagesUsed || bytes != sizeof(Connection)) return ::operator new(bytes);
  return arena_of_size<sizeof(Connection)>().allocate();
}

void Connection::operator delete(void* p, std::size_t bytes) noexcept {
  if (!kHugePagesUsed || bytes != sizeof(Connection)) return ::operator delete(p);
  arena_of_size<sizeof(Connection)>().deallocate(p);
}

Connection::Connection(std::uint64_t id, std::uint32_t incarnation, const FourTuple& tuple,
                       Dir client_dir, bool mid_stream)
    : id_(id),
      incarnation_(incarnation),
      tuple_(tuple),
      client_dir_(client_dir),
      mid_stream_(mid_stream) {
  // With no handshake seen, assume both sides are established (a capture that starts
  // mid-connection); otherwise the server listens and the client is closed until its SYN.
  ep(Role::client).state = mid_stream ? TcpState::established : TcpState::closed;
  ep(Role::server).state = mid_stream ? TcpState::established : TcpState::listen;
}

void Connection::restart(std::uint64_t id, std::uint32_t incarnation, const FourTuple& tuple,
                         Dir client_dir, bool mid_stream) {
  Facts storage = std::move(facts_);
  storage.clear();
  if (storage.capacity() > kKeptFacts) storage = {};
  // Rebuilt in place rather than assigned from a temporary: this runs once per connection and
  // the object is well over a kilobyte.
  std::destroy_at(this);
  std::construct_at(this, id, incarnation, tuple, client_dir, mid_stream);
  facts_ = std::move(storage);
}

void Connection::on_segment(const Segment& s, Role from, std::uint32_t extra_tags) {
  Endpoint& self = ep(from);
  Endpoint& peer = ep(other(from));
  if (!started_) {
    started_ = true;
    first_ts_ = s.ts;
    first_frame_ = s.frame;
  }
  if (s.ts >= last_ts_) {
    last_ts_ = s.ts;
    last_frame_ = s.frame;
  }
  self.last_ts = s.ts;
  if (self.counters.packets == 0) self.first_ttl = s.ttl;
  const TcpState self_before = self.state;
  const TcpState peer_before = peer.state;

  if (is_duplicate(self, s) || is_late_copy_of_fin(self, s)) {
    ++self.counters.packets;
    ++self.counters.duplicates;
    if ((s.flags & (syn | fin | rst)) != 0) {
      add_fact(s, from, fact_tag::duplicate, self_before, peer_before);
    }
    return;
  }
  record_reaction(from, s);
  std::uint32_t tags = classify(self, peer, s) | extra_tags;
  count(self, s);
  if ((tags & fact_tag::retransmission) != 0) ++self.counters.retransmissions;
  if ((tags & fact_tag::gap_before) != 0) self.gap_seen = true;
  if (s.syn()) apply_syn(self, s);
  if (s.rst()) {
    apply_rst(self, peer, s, tags);
  } else {
    if (s.ack_flag()) apply_ack(self, peer, s, tags);
    if (s.fin()) apply_fin(self, s, tags);
  }
  track_sequence(self, peer, s);
  update_history(from, s, tags);
  if (worth_a_fact(self, peer, s, tags)) add_fact(s, from, tags, self_before, peer_before);
  if ((tags & fact_tag::after_peer_fin) != 0) {
    self.bytes_after_peer_fin += s.len;
    if (!self.first_data_after_peer_fin.seen) self.first_data_after_peer_fin = moment_of(s);
  }
}

bool Connection::is_duplicate(Endpoint& self, const Segment& s) {
  for (std::uint8_t i = 0; i < self.recent_count; ++i) {
    const Endpoint::Signature& sig = self.recent[i];
    if (sig.seq == s.seq.raw() && sig.ack == s.ack.raw() && sig.len == s.len &&
        sig.flags == s.flags && sig.checksum == s.checksum && sig.ip_id == s.ip_id &&
        (s.ts - sig.ts) <= kDuplicateWindow && (sig.ts - s.ts) <= kDuplicateWindow) {
      return true;
    }
  }
  self.recent[self.recent_next] =
      Endpoint::Signature{s.ts, s.seq.raw(), s.ack.raw(), s.len, s.ip_id, s.checksum, s.flags};
  self.recent_next = static_cast<std::uint8_t>((self.recent_next + 1) % self.recent.size());
  self.recent_count = std::min<std::uint8_t>(static_cast<std::uint8_t>(self.recent_count + 1),
                                             static_cast<std::uint8_t>(self.recent.size()));
  return false;
}

// A FIN identical to the first one down to its IPv4 identification is the same packet
// delivered again by the network (a retransmission gets a new id), however late it comes.
bool Connection::is_late_copy_of_fin(const Endpoint& self, const Segment& s) const {
  return s.fin() && self.fin_sent && s.ip_id != 0 && s.ip_id == self.first_fin_ip_id &&
         s.fin_seq() == self.fin_seq;
}

// Tags that depend only on where the segment lies relative to what self already sent.
std::uint32_t Connection::classify(const Endpoint& self, const Endpoint& peer,
                                   const Segment& s) const {
  std::uint32_t tags = 0;
  if (s.syn()) {
    if (self.isn_known && s.seq == self.isn) tags |= fact_tag::retransmission;
    return tags;
  }
  if (self.fin_sent && !s.rst()) tags |= fact_tag::after_own_fin;
  if (!self.sent_any) {
    if (s.len > 0) tags |= fact_tag::new_data;
  } else if (s.len > 0 || s.fin()) {
    if (s.seq > self.snd_max) tags |= fact_tag::gap_before;
    if (s.end() > self.snd_max) {
      tags |= fact_tag::new_data;
    } else if (s.len <= 1 && !s.fin() && s.seq == self.snd_max - 1) {
      tags |= fact_tag::probe;  // keep-alive with a garbage byte, or a zero-window probe
    } else {
      tags |= fact_tag::retransmission;
    }
  } else if (!s.rst()) {
    if (s.seq == self.snd_max - 1) tags |= fact_tag::probe;  // RFC 9293 §3.8.4 keep-alive
    if (s.seq > self.snd_max) tags |= fact_tag::gap_before;
  }
  if (peer.fin_sent && s.len > 0 && (tags & fact_tag::new_data) != 0) {
    tags |= fact_tag::after_peer_fin;
  }
  return tags;
}

void Connection::count(Endpoint& self, const Segment& s) {
  EndpointCounters& c = self.counters;
  ++c.packets;
  c.bytes += s.len;
  if (s.syn()) ++c.syns;
  if (s.fin()) ++c.fins;
  if (s.rst()) ++c.rsts;
}

void Connection::apply_syn(Endpoint& self, const Segment& s) {
  if (!self.first_syn.seen) self.first_syn = moment_of(s);
  if (!self.isn_known) {
    self.isn_known = true;
    self.isn = s.seq;
    self.sent_any = false;  // sequence tracking restarts at the ISN
    self.wscale = s.wscale;
  }
  if (s.ack_flag()) {
    if (self.state == TcpState::listen || self.state == TcpState::closed) {
      self.state = TcpState::syn_received;
    }
  } else if (self.state == TcpState::closed || self.state == TcpState::listen) {
    self.state = TcpState::syn_sent;
  }
}

void Connection::apply_ack(Endpoint& self, Endpoint& peer, const Segment& s, std::uint32_t& tags) {
  // Handshake: an ACK of the peer's SYN completes self's side (SYN_SENT) and, when it covers
  // the peer's SYN-ACK, the peer's (SYN_RECEIVED). RFC 9293 §3.5.
  if (peer.isn_known && acks_beyond(s, peer.isn)) {
    if (self.state == TcpState::syn_sent && !s.syn()) self.state = TcpState::established;
    // Its SYN was not captured (the capture starts at the SYN-ACK): acknowledging the peer's
    // SYN still proves the handshake completed on its side (RFC 9293 §3.5).
    if (self.state == TcpState::closed && !self.first_syn.seen && !self.sent_any && !s.syn()) {
      self.state = TcpState::established;
    }
    if (peer.state == TcpState::syn_received && !s.syn()) {
      peer.state = TcpState::established;
      if (self.first_syn.seen && peer.first_syn.seen) {
        handshake_seen_ = true;
        handshake_ack_ts_ = s.ts;
      }
    }
  }
  if (peer.sent_any && s.ack_flag() && s.ack > peer.snd_max) peer.acked_unseen = true;
  if (!peer.fin_sent || !acks_beyond(s, peer.fin_seq)) return;

  tags |= fact_tag::acks_peer_fin;
  if (!self.acked_peer_fin.seen) {
    tags |= fact_tag::first_fin_ack;
    self.acked_peer_fin = moment_of(s);
    self.state = on_acking_peer_fin(self.state);
    if (self.state == TcpState::time_wait) self.time_wait_entered = moment_of(s);
  }
  if (self.state == TcpState::time_wait) self.time_wait_restarted = moment_of(s);
  // A passive closer the model had closed (its FIN's ACK was seen) ACKs the peer's FIN again:
  // the final ACK never reached it, it still waits in LAST_ACK (RFC 5961 §4 challenge ACK).
  if (self.state == TcpState::closed && !reset_ && self.fin_sent && s.len == 0 && !s.fin()) {
    self.state = TcpState::last_ack;
  }
  if (!peer.fin_acked.seen) {
    peer.fin_acked = moment_of(s);
    const TcpState before = peer.state;
    peer.state = on_own_fin_acked(peer.state);
    if (before == TcpState::closing && peer.state == TcpState::time_wait) {
      peer.time_wait_entered = moment_of(s);
      peer.time_wait_restarted = moment_of(s);
    }
  } else if (peer.state == TcpState::last_ack || peer.state == TcpState::fin_wait_1) {
    // The peer had re-sent its FIN (so the model put it back in LAST_ACK / FIN_WAIT_1); this
    // ACK answers the retransmission.
    peer.state = on_own_fin_acked(peer.state);
  }
}

void Connection::apply_fin(Endpoint& self, const Segment& s, std::uint32_t& tags) {
  const SeqNum fin_seq = s.fin_seq();
  if (!self.fin_sent) {
    self.fin_sent = true;
    self.fin_seq = fin_seq;
    self.fin_transmissions = 1;
    self.first_fin = moment_of(s);
    self.first_fin_ip_id = s.ip_id;
    self.state = on_sending_fin(self.state);
    return;
  }
  if (fin_seq != self.fin_seq) {
    // Not a retransmission (detections.md §3.2): the sender moved its FIN.
    tags |= fact_tag::fin_seq_changed;
    tags &= ~fact_tag::retransmission;
    self.fin_seq = fin_seq;
    return;
  }
  tags |= fact_tag::retransmission;
  ++self.fin_transmissions;
  if (!reset_) self.state = on_fin_resent(self.state);
}

void Connection::apply_rst(Endpoint& self, Endpoint& peer, const Segment& s, std::uint32_t& tags) {
  if (!self.first_rst.seen) self.first_rst = moment_of(s);
  // RFC 9293 §3.10.7 / RFC 5961 §3.2: a RST resets the receiver when its seq is exactly the
  // receiver's RCV.NXT; inside the window a modern stack sends a challenge ACK instead (older
  // ones accept it). In SYN_SENT it must acknowledge the SYN.
  bool exact = false;
  bool in_window = false;
  if (peer.state == TcpState::syn_sent) {
    exact = s.ack_flag() && peer.isn_known && s.ack == peer.isn + 1;
  } else if (!self.sent_any) {
    exact = true;
  } else {
    exact = s.seq == self.snd_max;
    const std::uint32_t wnd = std::max<std::uint32_t>(peer.last_window, 1);
    in_window = !exact && s.seq.in_window(self.snd_max, wnd);
  }
  if (exact) tags |= fact_tag::rst_exact;
  if (in_window) tags |= fact_tag::rst_in_window;
  self.state = TcpState::closed;
  if (exact || in_window) {
    peer.state = TcpState::closed;
    if (!reset_) {
      reset_ = true;
      reset_at_ = moment_of(s);
    }
  }
}

void Connection::track_sequence(Endpoint& self, Endpoint& peer, const Segment& s) {
  const bool moves_space = !s.rst() || !self.sent_any;
  if (moves_space) {
    if (!self.sent_any) {
      self.sent_any = true;
      self.snd_low = s.seq;
      self.snd_max = s.end();
    } else {
      if (!self.isn_known && s.seq < self.snd_low) self.snd_low = s.seq;
      if (s.end() > self.snd_max) self.snd_max = s.end();
    }
  }
  if (s.ack_flag() && (!self.ack_any || s.ack > self.ack_max)) {
    self.ack_max = s.ack;
    self.ack_any = true;
  }
  // RFC 7323 §2.2: the window field of a SYN is never scaled; scaling needs both SYNs' option.
  const int shift = (!s.syn() && self.wscale >= 0 && peer.wscale >= 0) ? self.wscale : 0;
  if (!s.rst()) {
    self.last_window = std::uint32_t{s.window} << shift;
    self.window_max = std::max(self.window_max, self.last_window);
  }
  track_ip_id(self, s);
  if (s.options_cut) {
    // RFC 7323 §2.2/§3.2: scaling and timestamps are agreed on the SYNs; bytes the capture lost
    // there leave them unknown, which the detectors that judge by them must say.
    if (s.ts_unknown()) self.ts_cut = true;
    if (s.syn() && s.ts_unknown()) self.syn_ts_cut = true;
    if (s.syn() && s.wscale < 0) self.syn_wscale_cut = true;
  }
  if (s.has_ts) {
    if (!self.ts_seen) self.ts_first = s.ts_val;
    if (!self.ts_seen || SeqNum(s.ts_val) > SeqNum(self.ts_last)) self.ts_last = s.ts_val;
    self.ts_seen = true;
  }
  if (s.len > 0 && s.end() == self.snd_max) self.last_new_data = moment_of(s);
}

// The receiver's next segment after a stale one shows what it did with it: an ACK (dropped, or
// a challenge ACK), a RST, or data (it went on as if nothing happened).
void Connection::record_reaction(Role from, const Segment& s) {
  if (stale_awaiting_reaction_ == kNoStale || from != stale_receiver_) return;
  Fact& f = facts_[stale_awaiting_reaction_];
  if (s.rst())
    f.reaction = Fact::Reaction::rst;
  else if (s.len > 0)
    f.reaction = Fact::Reaction::data;
  else
    f.reaction = Fact::Reaction::ack;
  stale_awaiting_reaction_ = kNoStale;
}

void Connection::track_ip_id(Endpoint& self, const Segment& s) {
  if (s.ip_id == 0 || !self.ip_id_sequential) {
    if (s.ip_id == 0) self.ip_id_sequential = false;  // IPv6, or a stack that zeroes DF ids
    return;
  }
  if (self.counters.packets <= 1) {
    self.ip_id_first = self.ip_id_last = s.ip_id;
    return;
  }
  const auto step = static_cast<std::int16_t>(s.ip_id - self.ip_id_last);
  if (step > kIpIdRun || step < -kIpIdRun) {
    self.ip_id_sequential = false;
    return;
  }
  if (step > 0) self.ip_id_last = s.ip_id;
}

bool Connection::ip_id_fits(const Endpoint& self, const Segment& s) const {
  if (s.ip_id == 0 || !self.ip_id_sequential || self.counters.packets < 2) return true;
  const auto from_first = static_cast<std::int16_t>(s.ip_id - self.ip_id_first);
  const auto past_last = static_cast<std::int16_t>(s.ip_id - self.ip_id_last);
  return from_first >= -kIpIdRun && past_last <= kIpIdRun;
}

void Connection::add_history(Role from, char letter) {
  const int bit = letter - 'A';
  std::uint32_t& seen = history_letters_[static_cast<int>(from)];
  if ((seen & (1U << bit)) != 0 || history_len_ >= history_.size()) return;
  seen |= 1U << bit;
  history_[history_len_++] = from == Role::client ? letter : static_cast<char>(letter - 'A' + 'a');
}

// Zeek-style history (conn.log): S syn, H syn-ack, D data, A pure ack, F fin, R rst,
// T retransmission, W zero window, G gap; each letter once per side, upper case = client.
void Connection::update_history(Role from, const Segment& s, std::uint32_t tags) {
  if (s.syn()) add_history(from, s.ack_flag() ? 'H' : 'S');
  if (s.len > 0) add_history(from, 'D');
  if (s.ack_flag() && s.len == 0 && (s.flags & (syn | fin | rst)) == 0) add_history(from, 'A');
  if (s.fin()) add_history(from, 'F');
  if (s.rst()) add_history(from, 'R');
  if ((tags & fact_tag::retransmission) != 0) add_history(from, 'T');
  if (s.window == 0 && (s.flags & (syn | rst)) == 0) add_history(from, 'W');
  if ((tags & fact_tag::gap_before) != 0) add_history(from, 'G');
}

bool Connection::worth_a_fact(const Endpoint& self, const Endpoint& peer, const Segment& s,
                              std::uint32_t tags) const {
  if ((s.flags & (syn | fin | rst)) != 0) return true;
  if ((tags & (fact_tag::stale | fact_tag::syn_new_isn)) != 0) return true;
  if ((tags & fact_tag::first_fin_ack) != 0) return true;
  // After both FINs the exchange is short: keep all of it (re-ACKs, late data).
  if (self.fin_sent && peer.fin_sent) return true;
  if ((tags & fact_tag::acks_peer_fin) != 0 && s.len == 0 && self.fin_sent) return true;
  if ((tags & fact_tag::after_peer_fin) != 0 && !self.first_data_after_peer_fin.seen) return true;
  return false;
}

void Connection::add_fact(const Segment& s, Role from, std::uint32_t tags, TcpState self_before,
                          TcpState peer_before) {
  const Endpoint& self = endpoint(from);
  const Endpoint& peer = endpoint(other(from));
  if (facts_.size() >= kMaxFacts) {
    ++facts_dropped_;
    return;
  }
  Fact f;
  f.ts = s.ts;
  f.frame = s.frame;
  f.seq = s.seq;
  f.ack = s.ack;
  f.len = s.len;
  f.ts_val = s.ts_val;
  f.has_ts = s.has_ts;
  f.tags = tags | (s.ts_unknown() ? fact_tag::ts_cut : 0U);
  f.flags = s.flags;
  f.from = from;
  f.self_before = self_before;
  f.self_after = self.state;
  f.peer_before = peer_before;
  f.peer_after = peer.state;
  f.unacked_by_peer = unacked(self, peer);
  f.unacked_by_self = unacked(peer, self);
  // A typical connection's worth at once (the bench capture averages 5.5 facts a connection)
  // instead of growing 1, 2, 4, 8: one allocation per connection not yet recycled.
  if (facts_.capacity() == 0) facts_.reserve(kFirstFacts);
  facts_.push_back(f);
}

SeqSpace seq_space_of(const Endpoint& e) {
  SeqSpace sp;
  sp.known = e.sent_any || e.isn_known;
  sp.isn_known = e.isn_known;
  sp.low = e.isn_known ? e.isn : e.snd_low;
  sp.high = e.sent_any ? e.snd_max : e.isn + 1;
  sp.window_max = e.window_max;
  return sp;
}

bool fits_spaces(const SeqSpace& self, const SeqSpace& peer, const Segment& s) {
  if (self.known) {
    const std::int64_t slack = std::max<std::uint32_t>(peer.window_max, 65535);
    if (s.seq.since(self.low) < 0 || s.seq.since(self.high) > slack) return false;
  }
  if (s.ack_flag() && peer.known) {
    const SeqNum low = peer.isn_known ? peer.low : peer.low - 65535;
    // An ack a little beyond what we saw the peer send is a capture gap (or accepted old
    // data), not another incarnation; one below the peer's start is.
    const std::int64_t ahead = std::max<std::uint32_t>(self.window_max, 65535);
    if (s.ack.since(low) < 0 || s.ack.since(peer.high) > ahead) return false;
  }
  return true;
}

bool Connection::fits(const Segment& s, Role from) const {
  const Endpoint& self = endpoint(from);
  const Endpoint& peer = endpoint(other(from));
  if (s.syn() && !s.ack_flag()) return self.isn_known && s.seq == self.isn;
  // RFC 7323 §5: TSvals of one connection never go back; one older than this incarnation's SYN
  // belongs to an earlier one.
  if (s.has_ts && self.ts_seen && self.isn_known && SeqNum(s.ts_val) < SeqNum(self.ts_first)) {
    return false;
  }
  if (!ip_id_fits(self, s)) return false;
  return fits_spaces(seq_space_of(self), seq_space_of(peer), s);
}

bool PreviousIncarnation::fits(const Segment& s, Role from_prev) const {
  if (s.syn() && !s.ack_flag()) return false;
  const int i = static_cast<int>(from_prev);
  return fits_spaces(space[i], space[1 - i], s);
}

void Connection::note_stale(const Segment& s, Role from) {
  const Endpoint& self = endpoint(from);
  const Endpoint& peer = endpoint(other(from));
  std::uint32_t tags = fact_tag::stale;
  // Would the receiver take it as data? RFC 9293 §3.10.7.4 acceptability test on the sequence
  // number, RFC 5961 §5 on the ack, RFC 7323 §5 (PAWS) on the timestamp.
  if (self.sent_any && s.len > 0) {
    const std::uint32_t wnd = std::max<std::uint32_t>(peer.last_window, 1);
    const SeqNum last = s.seq + (s.len - 1);
    if (s.seq.in_window(self.snd_max, wnd) || last.in_window(self.snd_max, wnd)) {
      tags |= fact_tag::stale_in_window;
    }
  }
  if (!s.ack_flag() || !peer.sent_any ||
      (s.ack <= peer.snd_max &&
       s.ack.since(peer.snd_max) >=
           -static_cast<std::int64_t>(std::max<std::uint32_t>(self.window_max, 65535)))) {
    tags |= fact_tag::stale_ack_ok;
  }
  if (s.has_ts && self.ts_seen && SeqNum(s.ts_val) < SeqNum(self.ts_last)) {
    tags |= fact_tag::stale_paws;
  }
  last_ts_ = std::max(last_ts_, s.ts);
  const std::size_t before = facts_.size();
  add_fact(s, from, tags, self.state, peer.state);
  if (facts_.size() > before) {
    stale_awaiting_reaction_ = static_cast<std::uint8_t>(before);
    stale_receiver_ = other(from);
  }
}

void Connection::note_syn_retry(const Segment& s) {
  Endpoint& c = ep(Role::client);
  Endpoint& sv = ep(Role::server);
  c.isn_known = false;
  c.sent_any = false;
  // A refusal (RST) of the earlier attempt ended that attempt, not this connection: the retry
  // starts from a listening server (the RST stays in the counters and facts).
  if (reset_) {
    reset_ = false;
    reset_at_ = Moment{};
    c.first_rst = Moment{};
    sv.first_rst = Moment{};
    c.state = TcpState::closed;
    sv.state = TcpState::listen;
    sv.sent_any = false;
  }
  on_segment(s, Role::client, fact_tag::syn_new_isn);
}

Moment Connection::end_moment() const {
  Moment end;
  for (const Endpoint& e : ep_) {
    if (e.time_wait_restarted.seen && (!end.seen || e.time_wait_restarted.ts > end.ts)) {
      end = e.time_wait_restarted;
    }
  }
  if (end.seen) return end;
  if (reset_) return reset_at_;
  return Moment{last_ts_, last_frame_, false};
}

bool Connection::settled() const {
  if (reset_) return true;
  for (const Endpoint& e : ep_) {
    if (!e.fin_sent || !e.fin_acked.seen) return false;
    if (e.state == TcpState::last_ack || e.state == TcpState::fin_wait_1 ||
        e.state == TcpState::closing) {
      return false;
    }
  }
  return true;
}

PreviousIncarnation Connection::snapshot() const {
  PreviousIncarnation p;
  p.connection_id = id_;
  p.incarnation = incarnation_;
  p.client_dir = client_dir_;
  p.closed = closed();
  p.reset = reset_;
  const Moment end = end_moment();
  p.end = end.ts;
  p.end_frame = end.frame;
  p.last_ts = last_ts_;
  const Endpoint& c = endpoint(Role::client);
  const Endpoint& s = endpoint(Role::server);
  p.time_wait_client = c.time_wait_entered.seen;
  p.time_wait_server = s.time_wait_entered.seen;
  p.client_fin_first = c.fin_sent && (!s.fin_sent || c.first_fin.ts <= s.first_fin.ts);
  p.client_state = c.state;
  p.server_state = s.state;
  for (int i = 0; i < 2; ++i) {
    p.space[i] = seq_space_of(ep_[i]);
    p.snd_max[i] = ep_[i].snd_max;
    p.isn[i] = ep_[i].isn;
    p.isn_known[i] = ep_[i].isn_known;
    p.ts_seen[i] = ep_[i].ts_seen;
    p.ts_last[i] = ep_[i].ts_last;
    p.ts_cut[i] = ep_[i].ts_cut;
  }
  return p;
}

}  // namespace lastack::tcp
