// lost_final_ack (detections.md §3.1): the passive closer re-sent its FIN, or was still in
// LAST_ACK when a new SYN came, because the active closer's final ACK never reached it.
#include <algorithm>
#include <cmath>

#include "close_facts.h"

namespace lastack::detect {

using findings::Confidence;
using findings::Severity;
using tcp::Role;

namespace {

struct Outcome {
  const char* cause;
  Severity severity;
  const char* text;
};

Outcome outcome_of(const tcp::Connection& c, const LostFinalAck& r) {
  if (r.challenge_ack != nullptr && (r.challenge_ack->flags & decode::tcp_flag::rst) != 0) {
    return {"ended_by_reuse", Severity::error,
            "reopened the four-tuple, and the passive side, still in LAST_ACK, reset it (an older "
            "stack's answer to the new SYN)"};
  }
  if (r.response != nullptr && (r.response->flags & decode::tcp_flag::rst) != 0) {
    if (c.successor_start() && r.response->ts >= *c.successor_start()) {
      return {"ended_by_reuse", Severity::error,
              "reopened the four-tuple, and the RST of its new handshake ended the old connection"};
    }
    return {"reset", Severity::error,
            "answered with RST: it kept no TIME_WAIT state (tcp_max_tw_buckets, SO_LINGER 0 or a "
            "middlebox), and the passive side saw an error"};
  }
  if (r.response != nullptr) {
    return {"reacked", Severity::warning, "ACKed again from TIME_WAIT, which did its job"};
  }
  return {"unresolved", Severity::warning, "was not heard from again in the capture"};
}

}  // namespace

void detect_lost_final_ack(const Subject& s, const Context&, std::vector<findings::Finding>& out) {
  for (Role p : {Role::client, Role::server}) {
    const LostFinalAck r = find_lost_final_ack(s.conn, p);
    if (!r.valid) continue;
    const Role a = tcp::other(p);
    const Outcome o = outcome_of(s.conn, r);
    findings::Finding f =
        make_finding(s, "lost_final_ack", o.cause, o.severity,
                     r.final_ack != nullptr ? Confidence::confirmed : Confidence::probable);
    std::vector<const tcp::Fact*> ev(r.transmissions.begin(), r.transmissions.end());
    ev.insert(ev.end(), r.answers.begin(), r.answers.end());
    if (r.challenge_ack != nullptr) ev.push_back(r.challenge_ack);
    std::sort(ev.begin(), ev.end(), [](const tcp::Fact* x, const tcp::Fact* y) {
      return x->ts != y->ts ? x->ts < y->ts : x->frame < y->frame;
    });
    ev.erase(std::unique(ev.begin(), ev.end()), ev.end());
    f.frames = frames_of(ev);
    const tcp::Fact* trigger =
        !r.retransmissions.empty() ? r.retransmissions.front() : r.challenge_ack;
    f.ts = trigger->ts;
    const std::string where =
        r.final_ack != nullptr
            ? "its final ACK was captured, so it was lost after the capture point"
            : "no final ACK was captured (lost before the capture point, or never sent)";
    const std::string what = !r.retransmissions.empty()
                                 ? " re-sent its FIN " +
                                       seconds_text(trigger->ts - r.transmissions.front()->ts) +
                                       " after the first"
                                 : " was still in LAST_ACK when a new SYN came";
    f.message = endpoint_name(s.conn, p) + what + ": the " + role_name(a) +
                "'s final ACK never reached it (" + where + "); then the " + role_name(a) + " " +
                o.text + ".";
    f.evidence.emplace_back("fin_seq", std::int64_t{s.ep(p).fin_seq.raw()});
    f.evidence.emplace_back("fin_transmissions", static_cast<std::int64_t>(r.transmissions.size()));
    f.evidence.emplace_back("intervals_s", intervals_s(r.transmissions));
    f.evidence.emplace_back("final_ack_captured", r.final_ack != nullptr);
    f.evidence.emplace_back("passive_closer", std::string(role_name(p)));
    f.evidence.emplace_back("vantage", std::string(findings::to_string(s.vantage)));
    if (r.response != nullptr) {
      f.evidence.emplace_back("response_after_s", (r.response->ts - trigger->ts).seconds());
    }
    if (!r.retransmissions.empty()) f.links.push_back({s.conn.id(), "fin_retransmit"});
    if (std::string_view(o.cause) == "reset" || std::string_view(o.cause) == "ended_by_reuse") {
      f.links.push_back({s.conn.id(), "rst_after_close"});
    }
    out.push_back(std::move(f));
  }
}

}  // namespace lastack::detect
