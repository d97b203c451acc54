// Scripted two-host TCP conversations. Each host keeps the RFC 9293 §3.3.1 send/receive
// variables it needs (SND.NXT, RCV.NXT, TS.Recent) so a script only says what happens and the
// numbers come out right.
//
// Receiving rule: a segment written to the capture also reaches the peer; a `lost` one reaches
// neither (loss before the capture point). The peer's RCV.NXT advances only over in-order data
// (RFC 9293 §3.10.7.4): a segment starting at or before RCV.NXT moves it to the segment's end;
// a segment beyond a hole does not move it (no out-of-order queue is modelled, so after the hole
// is filled RCV.NXT ends at the filling segment). The first segment a host receives (normally the
// SYN) sets RCV.NXT unconditionally.
#include "lastack/synth/conversation.h"

#include <algorithm>
#include <utility>

#include "lastack/decode/decoded_packet.h"

namespace lastack::synth {
namespace {

namespace flag = decode::tcp_flag;

// SYN and FIN each occupy one sequence number (RFC 9293 §3.4).
std::uint32_t seq_space(const TcpSegmentSpec& s) {
  return s.payload_len + ((s.flags & flag::syn) != 0 ? 1u : 0u) +
         ((s.flags & flag::fin) != 0 ? 1u : 0u);
}

// Serial "a < b" (RFC 1982) for raw 32-bit sequence numbers.
bool seq_before(std::uint32_t a, std::uint32_t b) {
  return static_cast<std::int32_t>(a - b) < 0;
}

// What a common stack offers on SYN and SYN-ACK (Linux defaults, with WS 7).
void add_syn_options(TcpSegmentSpec& s) {
  s.mss = 1460;
  s.sack_permitted = true;
  s.wscale = 7;
}

}  // namespace

Conversation::Conversation(HostSpec client, HostSpec server, Timestamp start, Link link)
    : start_(start), now_(start), link_(link) {
  client_.spec = client;
  server_.spec = server;
  client_.snd_nxt = client_.spec.isn;
  server_.snd_nxt = server_.spec.isn;
  client_.ip_id = client_.spec.ip_id_start;
  server_.ip_id = server_.spec.ip_id_start;
}

Conversation& Conversation::at(Timestamp t) {
  now_ = t;
  first_ = true;  // the next packet is sent exactly at `t`
  return *this;
}

Conversation& Conversation::after(Duration d) {
  now_ = now_ + d;
  first_ = true;  // replaces the default step before the next packet
  return *this;
}

Conversation& Conversation::step(Duration d) {
  step_ = d;
  return *this;
}

Conversation& Conversation::vlans(std::vector<std::uint16_t> ids) {
  vlans_ = std::move(ids);
  return *this;
}

Conversation& Conversation::interface(std::uint32_t id) {
  interface_id_ = id;
  return *this;
}

TcpSegmentSpec Conversation::base_spec(Side from) {
  const HostState& h = host(from);
  const HostState& p = peer(from);
  TcpSegmentSpec s;
  s.src = h.spec.ip;
  s.dst = p.spec.ip;
  s.src_port = h.spec.port;
  s.dst_port = p.spec.port;
  s.ttl = h.spec.ttl;
  s.window = h.spec.window;
  s.seq = h.snd_nxt;
  s.ack = h.rcv_init ? h.rcv_nxt : 0;
  s.flags = flag::ack;
  return s;
}

std::uint64_t Conversation::emit(Side from, TcpSegmentSpec spec, const Emit& e, bool verbatim) {
  if (!first_) now_ = now_ + step_;
  first_ = false;
  HostState& h = host(from);
  HostState& p = peer(from);

  if (!verbatim) {
    spec.vlan_ids = vlans_;
    spec.ip_id = h.ip_id++;  // one IP id per packet per host, as Linux does per connection
    if (h.spec.timestamps) {
      // RFC 7323 §5.4: TSval from a clock of 1 ms ticks; TSecr echoes TS.Recent.
      const std::int64_t ms = (now_ - start_).ns / 1'000'000;
      spec.ts_val = h.spec.ts_start + static_cast<std::uint32_t>(ms);
      spec.ts_ecr = h.ts_recent;
    }
  }
  if (e.seq) spec.seq = *e.seq;
  if (e.flags) spec.flags = *e.flags;
  if (e.ack) {
    spec.ack = *e.ack;
  } else if (e.flags && (spec.flags & flag::ack) == 0) {
    spec.ack = 0;  // stacks send 0 when ACK is off
  }
  if (e.ip_id) spec.ip_id = *e.ip_id;

  const std::uint32_t end = spec.seq + seq_space(spec);
  if (seq_before(h.snd_nxt, end)) h.snd_nxt = end;  // a retransmission never moves it back
  if ((spec.flags & flag::fin) != 0) {
    h.fin_sent = true;
    h.last_fin_seq = spec.seq;
    h.last_fin_len = spec.payload_len;
  }
  h.last = spec;
  h.has_last = true;
  if (e.lost) return 0;

  if (!p.rcv_init) {
    p.rcv_nxt = end;
    p.rcv_init = true;
  } else if (!seq_before(p.rcv_nxt, spec.seq) && seq_before(p.rcv_nxt, end)) {
    p.rcv_nxt = end;
  }
  if (spec.ts_val) p.ts_recent = *spec.ts_val;

  packets_.push_back(SynthPacket{now_, build_frame(spec, link_), 0, interface_id_});
  return packets_.size();
}

std::uint64_t Conversation::syn(Side from, Emit e) {
  TcpSegmentSpec s = base_spec(from);
  s.flags = flag::syn;
  s.ack = 0;
  add_syn_options(s);
  return emit(from, std::move(s), e);
}

std::uint64_t Conversation::syn_ack(Emit e) {
  TcpSegmentSpec s = base_spec(Side::server);
  s.flags = flag::syn | flag::ack;
  add_syn_options(s);
  return emit(Side::server, std::move(s), e);
}

std::uint64_t Conversation::ack(Side from, Emit e) {
  return emit(from, base_spec(from), e);
}

std::uint64_t Conversation::handshake() {
  syn(Side::client);
  syn_ack();
  return ack(Side::client);
}

std::uint64_t Conversation::exchange(std::uint32_t request, std::uint32_t response) {
  data(Side::client, request);
  data(Side::server, response);
  return ack(Side::client);
}

std::uint64_t Conversation::close(Side first) {
  const Side second = first == Side::client ? Side::server : Side::client;
  fin(first);
  ack(second);
  fin(second);
  return ack(first);
}

std::uint64_t Conversation::data(Side from, std::uint32_t len, Emit e) {
  TcpSegmentSpec s = base_spec(from);
  s.flags = flag::psh | flag::ack;
  s.payload_len = len;
  return emit(from, std::move(s), e);
}

std::uint64_t Conversation::fin(Side from, Emit e) {
  TcpSegmentSpec s = base_spec(from);
  s.flags = flag::fin | flag::ack;
  return emit(from, std::move(s), e);
}

std::uint64_t Conversation::fin_data(Side from, std::uint32_t len, Emit e) {
  TcpSegmentSpec s = base_spec(from);
  s.flags = flag::fin | flag::psh | flag::ack;
  s.payload_len = len;
  return emit(from, std::move(s), e);
}

std::uint64_t Conversation::rst(Side from, Emit e) {
  TcpSegmentSpec s = base_spec(from);
  s.flags = flag::rst | flag::ack;
  return emit(from, std::move(s), e);
}

std::uint64_t Conversation::rst_no_ack(Side from, Emit e) {
  TcpSegmentSpec s = base_spec(from);
  s.flags = flag::rst;
  s.ack = 0;
  return emit(from, std::move(s), e);
}

// Same sequence number and payload as the last FIN; ack, IP id and timestamps are current, as a
// real retransmission carries. Without an earlier FIN nothing is sent and 0 is returned.
std::uint64_t Conversation::retransmit_fin(Side from, Emit e) {
  const HostState& h = host(from);
  if (!h.fin_sent) return 0;
  TcpSegmentSpec s = base_spec(from);
  s.seq = h.last_fin_seq;
  s.payload_len = h.last_fin_len;
  s.flags = static_cast<std::uint8_t>(flag::fin | flag::ack | (h.last_fin_len > 0 ? flag::psh : 0));
  return emit(from, std::move(s), e);
}

// A byte-identical copy (IP id and timestamps included), as a duplicated capture shows it. The
// host's IP id counter does not move. Without an earlier segment nothing is sent: returns 0.
std::uint64_t Conversation::retransmit_last(Side from, Emit e) {
  const HostState& h = host(from);
  if (!h.has_last) return 0;
  return emit(from, h.last, e, /*verbatim=*/true);
}

std::uint64_t Conversation::segment(Side from, std::uint8_t flags, std::uint32_t len, Emit e) {
  TcpSegmentSpec s = base_spec(from);
  s.flags = flags;
  s.payload_len = len;
  if ((flags & flag::ack) == 0) s.ack = 0;
  if ((flags & flag::syn) != 0) add_syn_options(s);
  return emit(from, std::move(s), e);
}

std::uint32_t Conversation::next_seq(Side from) const {
  return (from == Side::client ? client_ : server_).snd_nxt;
}

std::uint32_t Conversation::rcv_next(Side of) const {
  return (of == Side::client ? client_ : server_).rcv_nxt;
}

std::vector<SynthPacket> merge_by_time(const std::vector<const Conversation*>& parts) {
  std::vector<SynthPacket> all;
  std::size_t total = 0;
  for (const Conversation* c : parts) total += c->packets().size();
  all.reserve(total);
  for (const Conversation* c : parts) {
    all.insert(all.end(), c->packets().begin(), c->packets().end());
  }
  std::stable_sort(all.begin(), all.end(),
                   [](const SynthPacket& a, const SynthPacket& b) { return a.ts < b.ts; });
  return all;
}

}  // namespace lastack::synth
