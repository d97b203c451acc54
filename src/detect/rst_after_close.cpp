// rst_after_close (detections.md §3.3): a side that had already closed answers with RST, or a
// RST ends a TIME_WAIT early.
#include <algorithm>

#include "close_facts.h"

namespace lastack::detect {

using findings::Confidence;
using findings::Severity;
using tcp::Fact;
using tcp::Role;
using tcp::TcpState;

namespace {

using decode::tcp_flag::fin;
using decode::tcp_flag::rst;

// A stack that sends RST after its own completed close does so at once; a RST that comes later
// into a TIME_WAIT is an assassination (RFC 1337).
constexpr Duration kFinThenRstWindow = Duration::from_s(1);

bool accepted(const Fact& f) {
  return f.has(tcp::fact_tag::rst_exact) || f.has(tcp::fact_tag::rst_in_window);
}

// The last segment of `from` captured before `at` (the one a RST most likely answers).
const Fact* last_before(const tcp::Connection& c, Role from, const Fact& at) {
  const Fact* last = nullptr;
  for (const Fact& f : c.facts()) {
    if (&f == &at) break;
    if (f.from == from && !f.has(tcp::fact_tag::duplicate) && !f.has(tcp::fact_tag::stale))
      last = &f;
  }
  return last;
}

struct Verdict {
  const char* cause = nullptr;
  Severity severity = Severity::info;
  std::string why;
};

Verdict judge(const Subject& s, const Context& ctx, Role x, const Fact& r, const Fact* answered) {
  const Role y = tcp::other(x);
  const tcp::Endpoint& ex = s.ep(x);
  const tcp::Endpoint& ey = s.ep(y);
  if (s.conn.successor_start() && r.ts >= *s.conn.successor_start()) {
    return {"reuse_rejected", Severity::error,
            "it was sent during the handshake of a new connection on the same four-tuple"};
  }
  if (ey.first_data_after_peer_fin.seen && ey.first_data_after_peer_fin.ts <= r.ts) {
    return {"data_after_close", Severity::error,
            "the " + std::string(role_name(y)) + " sent " +
                std::to_string(ey.bytes_after_peer_fin) + " bytes after the " + role_name(x) +
                " closed; that data is lost"};
  }
  // The FIN it answers must be one X had not acknowledged yet, or a re-sent one after X's final
  // ACK; a RST right after X acknowledged the last FIN is a FIN-then-RST habit.
  const bool fin_pending =
      answered != nullptr && (answered->flags & fin) != 0 &&
      (!ex.acked_peer_fin.seen || answered->ts > ex.acked_peer_fin.ts ||
       (answered->ts == ex.acked_peer_fin.ts && answered->frame > ex.acked_peer_fin.frame));
  if (fin_pending) {
    const Timestamp closed_at = ex.acked_peer_fin.seen ? ex.acked_peer_fin.ts : ex.first_fin.ts;
    const Duration since = r.ts - closed_at;
    if (since <= ctx.time_wait) {
      return {"no_time_wait", Severity::error,
              "it answered the " + std::string(role_name(y)) + "'s FIN " + seconds_text(since) +
                  " after closing, well inside TIME_WAIT: it kept no state"};
    }
    return {"time_wait_expired", Severity::info,
            "it answered a FIN " + seconds_text(since) + " after closing, after TIME_WAIT expired"};
  }
  return {"fin_then_rst", Severity::info, "the stack sent RST after its own FIN"};
}

void report_assassination(const Subject& s, Role y, const Fact& r,
                          std::vector<findings::Finding>& out) {
  const Role x = tcp::other(y);
  findings::Finding f = make_finding(s, "rst_after_close", "time_wait_assassination",
                                     Severity::warning, Confidence::confirmed);
  f.frames = {r.frame};
  f.ts = r.ts;
  f.message = "a RST from the " + std::string(role_name(y)) + " hit " + endpoint_name(s.conn, x) +
              " in TIME_WAIT and ended it early (RFC 1337 hazard).";
  f.evidence.emplace_back("receiver_state", std::string(tcp::to_string(r.peer_before)));
  out.push_back(std::move(f));
}

}  // namespace

void detect_rst_after_close(const Subject& s, const Context& ctx,
                            std::vector<findings::Finding>& out) {
  for (Role x : {Role::client, Role::server}) {
    const tcp::Endpoint& ex = s.ep(x);
    FactList rsts;
    for (const Fact& f : s.conn.facts()) {
      if (f.from == x && (f.flags & rst) != 0 && !f.has(tcp::fact_tag::duplicate) &&
          !f.has(tcp::fact_tag::stale)) {
        rsts.push_back(&f);
      }
    }
    if (rsts.empty()) continue;
    const Fact& r = *rsts.front();
    const Fact* answered = last_before(s.conn, tcp::other(x), r);
    // RFC 1337: the TIME_WAIT side answered something (an old duplicate) from TIME_WAIT, and
    // the RST that came back ended its TIME_WAIT. A RST that just follows the final ACK is a
    // stack's FIN-then-RST habit instead.
    const tcp::Endpoint& ey = s.ep(tcp::other(x));
    const bool prompted_from_time_wait =
        (answered != nullptr && answered->self_before == TcpState::time_wait) ||
        (ey.time_wait_entered.seen && r.ts - ey.time_wait_entered.ts > kFinThenRstWindow);
    if (r.peer_before == TcpState::time_wait &&
        (prompted_from_time_wait || !(ex.fin_sent && ex.first_fin.ts <= r.ts))) {
      report_assassination(s, x, r, out);
      continue;
    }
    if (!ex.fin_sent || ex.first_fin.ts > r.ts || r.peer_before == TcpState::syn_sent) continue;
    // A RST outside the receiver's window is ignored by it, unless it answers a new SYN (the
    // reopening side reads it as a refusal).
    const bool answers_reuse = s.conn.successor_start() && r.ts >= *s.conn.successor_start();
    if (!accepted(r) && r.peer_before != TcpState::closed && !answers_reuse) continue;
    const Verdict v = judge(s, ctx, x, r, answered);
    findings::Finding f =
        make_finding(s, "rst_after_close", v.cause, v.severity, Confidence::confirmed);
    std::vector<const Fact*> ev;
    const bool answers_new_syn =
        answers_reuse && (answered == nullptr || answered->ts < *s.conn.successor_start());
    if (answered != nullptr && !answers_new_syn) ev.push_back(answered);
    ev.insert(ev.end(), rsts.begin(), rsts.end());
    f.frames = frames_of(ev);
    // Refusing the new SYN: that SYN lives in the next incarnation, name its frame.
    if (answers_new_syn) f.frames.insert(f.frames.begin(), s.conn.successor_frame());
    f.ts = r.ts;
    f.message = endpoint_name(s.conn, x) + " sent RST after it had closed: " + v.why + ".";
    f.evidence.emplace_back("rst_count", static_cast<std::int64_t>(rsts.size()));
    f.evidence.emplace_back("sender_state", std::string(tcp::to_string(r.self_before)));
    f.evidence.emplace_back("receiver_state", std::string(tcp::to_string(r.peer_before)));
    f.evidence.emplace_back("since_fin_s", (r.ts - ex.first_fin.ts).seconds());
    if (ex.acked_peer_fin.seen && ex.acked_peer_fin.ts <= r.ts) {
      f.evidence.emplace_back("since_final_ack_s", (r.ts - ex.acked_peer_fin.ts).seconds());
    }
    f.evidence.emplace_back("rst_has_ack", (r.flags & decode::tcp_flag::ack) != 0);
    if (answered != nullptr && (answered->flags & fin) != 0 &&
        closed_passively(s.conn, tcp::other(x))) {
      f.links.push_back({s.conn.id(), "lost_final_ack"});
    }
    out.push_back(std::move(f));
  }
}

}  // namespace lastack::detect
