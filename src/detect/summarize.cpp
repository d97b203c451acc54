// The per-connection summary (detections.md §5): how the incarnation ended, who closed first
// and who holds TIME_WAIT, as the facts recorded by the state machine show it.
#include "lastack/detect/detector.h"

namespace lastack::detect {

namespace {

using findings::CloseKind;
using findings::Side;
using tcp::Role;

findings::SideCounts counts_of(const tcp::Endpoint& e) {
  findings::SideCounts c;
  c.packets = e.counters.packets;
  c.bytes = e.counters.bytes;
  c.syns = e.counters.syns;
  c.fins = e.counters.fins;
  c.rsts = e.counters.rsts;
  return c;
}

CloseKind close_kind_of(const tcp::Endpoint& c, const tcp::Endpoint& s) {
  const bool any_rst = c.first_rst.seen || s.first_rst.seen;
  const bool any_fin = c.fin_sent || s.fin_sent;
  if (any_rst) return any_fin ? CloseKind::rst : CloseKind::abortive;
  if (c.fin_sent && s.fin_sent) return CloseKind::fin;
  if (any_fin) return CloseKind::half_closed;
  return CloseKind::open_at_end;
}

// A side closed actively when its FIN went out before it had acknowledged the peer's FIN.
// A FIN+ACK that acknowledges the peer's FIN is a passive close (the same segment is both).
bool closed_actively(const tcp::Endpoint& e) {
  if (!e.fin_sent) return false;
  if (!e.acked_peer_fin.seen) return true;
  const tcp::Moment& f = e.first_fin;
  const tcp::Moment& a = e.acked_peer_fin;
  return f.ts < a.ts || (f.ts == a.ts && f.frame < a.frame);
}

Side side_of(bool client, bool server) {
  if (client && server) return Side::both;
  if (client) return Side::client;
  if (server) return Side::server;
  return Side::none;
}

Side active_closer_of(const tcp::Endpoint& c, const tcp::Endpoint& s) {
  const bool ca = closed_actively(c);
  const bool sa = closed_actively(s);
  if (ca && sa) return Side::both;  // both FINs left before either was acknowledged
  if (ca) return Side::client;
  if (sa) return Side::server;
  return Side::none;
}

// The four-tuple as client and server ends (the key orders its ends by address, not by role),
// into a ConnectionStart or a ConnectionSummary.
template <class Out>
void set_ends(const tcp::Connection& conn, Out& out) {
  const tcp::FourTuple& t = conn.tuple();
  const bool client_is_a = conn.client_dir() == tcp::Dir::a_to_b;
  out.client_ip = client_is_a ? t.a_ip : t.b_ip;
  out.client_port = client_is_a ? t.a_port : t.b_port;
  out.server_ip = client_is_a ? t.b_ip : t.a_ip;
  out.server_port = client_is_a ? t.b_port : t.a_port;
}

}  // namespace

ConnectionStart start_of(const tcp::Connection& conn) {
  ConnectionStart out;
  out.id = conn.id();
  set_ends(conn, out);
  out.first_ts = conn.first_ts();
  out.mid_stream = conn.mid_stream();
  out.input = conn.first_frame().input;
  out.first_frame = conn.first_frame().frame_no;
  out.incarnation = conn.incarnation();
  return out;
}

findings::ConnectionSummary summarize(const Subject& s) {
  const tcp::Connection& conn = s.conn;
  const tcp::Endpoint& c = conn.endpoint(Role::client);
  const tcp::Endpoint& sv = conn.endpoint(Role::server);
  findings::ConnectionSummary out;
  out.id = conn.id();
  set_ends(conn, out);
  out.interface_id = conn.interface_id();
  out.vlan = conn.tuple().vlan();
  out.incarnation = conn.incarnation();
  out.input = conn.first_frame().input;
  out.first_frame = conn.first_frame().frame_no;
  out.first_ts = conn.first_ts();
  out.last_ts = conn.last_ts();
  out.handshake_seen = conn.handshake_seen();
  out.mid_stream = conn.mid_stream();
  out.close_kind = close_kind_of(c, sv);
  out.active_closer = active_closer_of(c, sv);
  // The active closer(s) hold TIME_WAIT once the passive side's FIN has come (RFC 9293
  // §3.6); whether their final ACK was captured is reported separately.
  const bool both_fins = c.fin_sent && sv.fin_sent;
  const bool ca = out.active_closer == Side::client || out.active_closer == Side::both;
  const bool sa = out.active_closer == Side::server || out.active_closer == Side::both;
  out.time_wait_holder = both_fins ? side_of(ca, sa) : Side::none;
  bool final_ack = out.time_wait_holder != Side::none;
  if (ca && both_fins) final_ack = final_ack && c.acked_peer_fin.seen;
  if (sa && both_fins) final_ack = final_ack && sv.acked_peer_fin.seen;
  out.final_ack_seen = final_ack;
  for (const tcp::Endpoint* e : {&c, &sv}) {
    if (!e->time_wait_entered.seen) continue;
    if (!out.time_wait_start || e->time_wait_entered.ts < *out.time_wait_start) {
      out.time_wait_start = e->time_wait_entered.ts;
    }
  }
  out.client_final_state = std::string(tcp::to_string(c.state));
  out.server_final_state = std::string(tcp::to_string(sv.state));
  out.client = counts_of(c);
  out.server = counts_of(sv);
  out.history = std::string(conn.history());
  out.vantage = s.vantage;
  return out;
}

}  // namespace lastack::detect
