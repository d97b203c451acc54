// tuple_reuse (detections.md §3.5): a new incarnation started on a four-tuple whose previous
// one ended less than 2MSL before.
#include "close_facts.h"

namespace lastack::detect {

using findings::Confidence;
using findings::Severity;
using tcp::Role;
using tcp::TcpState;

namespace {

struct Verdict {
  const char* cause;
  Severity severity;
  const char* why;
};

// The peer answered the new SYN with an ACK of the old connection (a challenge ACK, RFC 5961
// §4): it was still in LAST_ACK, whatever the capture showed of the final ACK.
bool challenge_ack_seen(const tcp::Connection& c) {
  for (const tcp::Fact& f : c.facts()) {
    if (!f.has(tcp::fact_tag::stale) || f.from != Role::server) continue;
    if (c.handshake_seen() && f.ts > c.handshake_ack_ts()) break;
    if ((f.flags & (decode::tcp_flag::syn | decode::tcp_flag::fin | decode::tcp_flag::rst)) == 0 &&
        f.len == 0) {
      return true;
    }
  }
  return false;
}

Verdict judge(const tcp::PreviousIncarnation& p, Role opener_prev, bool seq_newer, bool ts_newer,
              bool challenged) {
  const TcpState other_state = opener_prev == Role::client ? p.server_state : p.client_state;
  if (other_state == TcpState::last_ack || challenged) {
    return {"while_last_ack", Severity::error,
            "the SYN met the peer still in LAST_ACK (its final ACK was lost and the reopening "
            "side kept no TIME_WAIT)"};
  }
  if (p.reset) {
    return {"after_reset", Severity::warning,
            "the previous connection ended by RST, so no TIME_WAIT protected it"};
  }
  if (seq_newer || ts_newer) {
    return {"rfc6191_safe", Severity::info,
            "the new SYN's sequence number or timestamp is newer than anything of the old "
            "connection (RFC 6191), so old duplicates can be told apart"};
  }
  return {"unsafe", Severity::warning,
          "neither the new sequence number nor a timestamp is beyond the old connection's: an "
          "old duplicate could be taken for new data"};
}

// When the sequence numbers do not settle it, RFC 6191 judges the new SYN's TSval against the
// last one of the old connection. A snaplen that cut the options hides them: the SYN's (the
// first TSval seen is then a later segment's, which is higher), or some of the old side's (its
// real last TSval may be higher than the one seen). "Newer" rests on both; "not newer" still
// holds on the real values unless a side's TSvals were not read at all.
bool timestamps_cut(const tcp::Endpoint& cl, const tcp::PreviousIncarnation& p, int op,
                    bool ts_newer) {
  if (ts_newer) return cl.syn_ts_cut || p.ts_cut[op];
  return (cl.syn_ts_cut && !cl.ts_seen) || (p.ts_cut[op] && !p.ts_seen[op]);
}

}  // namespace

void detect_tuple_reuse(const Subject& s, const Context& ctx, std::vector<findings::Finding>& out) {
  const tcp::Connection& c = s.conn;
  if (!c.previous() || c.mid_stream()) return;
  const tcp::PreviousIncarnation& p = *c.previous();
  const tcp::Endpoint& cl = c.endpoint(Role::client);
  if (!p.closed || !cl.first_syn.seen || !cl.isn_known) return;
  const Duration gap = cl.first_syn.ts - p.end;
  if (gap >= ctx.msl * 2) return;
  const Role opener_prev = p.client_role_now == Role::client ? Role::client : Role::server;
  const int op = static_cast<int>(opener_prev);
  const bool seq_newer = cl.isn > p.snd_max[op];
  const bool ts_newer = cl.ts_seen && p.ts_seen[op] && SeqNum(cl.ts_first) > SeqNum(p.ts_last[op]);
  const Verdict v = judge(p, opener_prev, seq_newer, ts_newer, challenge_ack_seen(c));
  findings::Finding f = make_finding(s, "tuple_reuse", v.cause, v.severity, Confidence::confirmed);
  const std::string_view cause(v.cause);
  const bool by_timestamps = !seq_newer && (cause == "rfc6191_safe" || cause == "unsafe");
  f.frames = {cl.first_syn.frame};
  if (p.end_frame.frame_no != 0) f.frames.insert(f.frames.begin(), p.end_frame);
  f.ts = cl.first_syn.ts;
  const bool opener_was_active = (opener_prev == Role::client) == p.client_fin_first;
  f.message = "the four-tuple was reused " + seconds_text(gap) +
              " after the previous connection ended (2MSL is " + seconds_text(ctx.msl * 2) +
              "): " + v.why + ".";
  f.evidence.emplace_back("gap_s", gap.seconds());
  f.evidence.emplace_back("previous_connection", static_cast<std::int64_t>(p.connection_id));
  if (p.isn_known[op]) f.evidence.emplace_back("old_isn", std::int64_t{p.isn[op].raw()});
  f.evidence.emplace_back("new_isn", std::int64_t{cl.isn.raw()});
  f.evidence.emplace_back("isn_minus_old_snd_max", std::int64_t{cl.isn.since(p.snd_max[op])});
  if (p.ts_seen[op]) f.evidence.emplace_back("old_tsval", std::int64_t{p.ts_last[op]});
  if (cl.ts_seen) f.evidence.emplace_back("new_tsval", std::int64_t{cl.ts_first});
  f.evidence.emplace_back(
      "reopened_by",
      std::string(opener_was_active ? "previous_active_closer" : "previous_passive_closer"));
  f.evidence.emplace_back("syn_transmissions", std::int64_t{cl.counters.syns});
  const char* outcome = c.handshake_seen() ? "established" : c.reset() ? "reset" : "incomplete";
  f.evidence.emplace_back("handshake", std::string(outcome));
  if (c.handshake_seen()) {
    f.evidence.emplace_back("connect_latency_s",
                            (c.handshake_ack_ts() - cl.first_syn.ts).seconds());
  }
  if (cause == "while_last_ack") {
    f.links.push_back({p.connection_id, "lost_final_ack"});
  }
  if (by_timestamps && timestamps_cut(cl, p, op, ts_newer)) mark_snaplen_cut(f);
  out.push_back(std::move(f));
}

}  // namespace lastack::detect
