#include "close_facts.h"

#include <cmath>
#include <cstdio>

namespace lastack::detect {

using tcp::Fact;
using tcp::Role;

FactList fin_transmissions(const tcp::Connection& c, Role role) {
  FactList out;
  const tcp::Endpoint& e = c.endpoint(role);
  if (!e.fin_sent) return out;
  for (const Fact& f : c.facts()) {
    if (f.from != role || f.has(tcp::fact_tag::duplicate) || f.has(tcp::fact_tag::stale)) continue;
    if ((f.flags & decode::tcp_flag::fin) == 0 || (f.flags & decode::tcp_flag::rst) != 0) continue;
    const SeqNum fin_seq = f.seq + f.len + ((f.flags & decode::tcp_flag::syn) != 0 ? 1U : 0U);
    if (fin_seq == e.fin_seq) out.push_back(&f);
  }
  return out;
}

bool closed_passively(const tcp::Connection& c, Role role) {
  const tcp::Endpoint& e = c.endpoint(role);
  if (!e.fin_sent || !e.acked_peer_fin.seen) return false;
  const tcp::Moment& a = e.acked_peer_fin;
  const tcp::Moment& f = e.first_fin;
  return a.ts < f.ts || (a.ts == f.ts && a.frame <= f.frame);
}

std::vector<double> intervals_s(FactSpan tx) {
  std::vector<double> out;
  for (std::size_t i = 1; i < tx.size(); ++i) {
    const double s = (tx[i]->ts - tx[i - 1]->ts).seconds();
    out.push_back(std::round(s * 1e6) / 1e6);
  }
  return out;
}

std::vector<FrameRef> frames_of(FactSpan facts) {
  std::vector<FrameRef> out;
  out.reserve(facts.size());
  for (const Fact* f : facts) out.push_back(f->frame);
  return out;
}

std::string endpoint_name(const tcp::Connection& c, Role role) {
  const tcp::FourTuple& t = c.tuple();
  const bool is_a = (c.client_dir() == tcp::Dir::a_to_b) == (role == Role::client);
  const std::string ep =
      is_a ? format_endpoint(t.a_ip, t.a_port) : format_endpoint(t.b_ip, t.b_port);
  return std::string(role_name(role)) + " " + ep;
}

std::string seconds_text(Duration d) {
  char buf[32];
  if (d < Duration::from_s(1) && d > Duration::from_s(-1)) {
    std::snprintf(buf, sizeof buf, "%.1f ms", static_cast<double>(d.ns) / 1e6);
  } else {
    std::snprintf(buf, sizeof buf, "%.3f s", d.seconds());
  }
  return buf;
}

}  // namespace lastack::detect

namespace lastack::detect {

namespace {

using decode::tcp_flag::ack;
using decode::tcp_flag::fin;
using decode::tcp_flag::rst;
using decode::tcp_flag::syn;

bool before_or_at(const Fact& f, const Fact& trigger) {
  return f.ts < trigger.ts || (f.ts == trigger.ts && f.frame < trigger.frame);
}

// p answered a new SYN (the next incarnation's) with an ACK in the old sequence space while it
// still waited in LAST_ACK: RFC 5961 §4 challenge ACK.
const Fact* find_challenge_ack(const tcp::Connection& c, Role p, const Fact* first_fin) {
  if (!c.successor_start()) return nullptr;
  const Timestamp succ = *c.successor_start();
  return first_fact(c, p, first_fin, [succ](const Fact& f) {
    const bool waiting =
        f.self_before == tcp::TcpState::last_ack || f.self_before == tcp::TcpState::closed;
    // Older stacks answer the SYN with RST instead (RFC 793 §3.9: a SYN in a synchronized
    // state is an error).
    if (f.ts >= succ && (f.flags & rst) != 0 && waiting) return true;
    return f.ts >= succ && (f.flags & (syn | fin | rst)) == 0 &&
           f.has(tcp::fact_tag::acks_peer_fin) &&
           (f.self_before == tcp::TcpState::last_ack || f.self_before == tcp::TcpState::closed);
  });
}

}  // namespace

LostFinalAck find_lost_final_ack(const tcp::Connection& c, Role p) {
  LostFinalAck r;
  r.passive = p;
  if (!closed_passively(c, p)) return r;
  const Role a = tcp::other(p);
  r.transmissions = fin_transmissions(c, p);
  if (r.transmissions.empty()) return r;
  const Fact* first = r.transmissions.front();
  for (std::size_t i = 1; i < r.transmissions.size(); ++i) {
    if (r.transmissions[i]->ts - first->ts >= kMinRto)
      r.retransmissions.push_back(r.transmissions[i]);
  }
  r.challenge_ack = find_challenge_ack(c, p, first);
  const Fact* trigger = !r.retransmissions.empty() ? r.retransmissions.front() : r.challenge_ack;
  if (trigger == nullptr) return r;

  // What a sent between p's FIN and the trigger: an ACK covering it (it was lost after the
  // capture point), or ACKs that do not (p's FIN itself never arrived: not this finding).
  bool uncovering_ack = false;
  for (const Fact& f : c.facts()) {
    if (f.from != a || !before_or_at(*first, f) || !before_or_at(f, *trigger)) continue;
    if (f.has(tcp::fact_tag::duplicate) || (f.flags & ack) == 0 || (f.flags & rst) != 0) continue;
    if (f.has(tcp::fact_tag::acks_peer_fin)) {
      if (r.final_ack == nullptr) r.final_ack = &f;
    } else {
      uncovering_ack = true;
    }
  }
  if (uncovering_ack && r.final_ack == nullptr) return r;
  // A gap in a→p: a segment of a started beyond what was seen, or p acknowledged bytes of a
  // that the capture never saw.
  r.gap = c.endpoint(a).gap_seen || c.endpoint(a).acked_unseen;
  if (r.final_ack == nullptr && r.gap) return r;
  // The outcome is what a did after p's last attempt (or, failing that, after any of them).
  auto answers = [](const Fact& f) {
    return (f.flags & rst) != 0 || f.has(tcp::fact_tag::acks_peer_fin);
  };
  const Fact* last = !r.retransmissions.empty() ? r.retransmissions.back() : trigger;
  r.response = first_fact(c, a, last, answers);
  if (r.response == nullptr) r.response = first_fact(c, a, trigger, answers);
  for (const Fact& f : c.facts()) {
    if (f.from == a && before_or_at(*first, f) && !f.has(tcp::fact_tag::duplicate) && answers(f)) {
      r.answers.push_back(&f);
    }
  }
  r.valid = true;
  return r;
}

}  // namespace lastack::detect
