// fin_retransmit (detections.md §3.2): one finding per re-sent FIN sequence, with why.
#include <algorithm>
#include <cmath>

#include "close_facts.h"

namespace lastack::detect {

using findings::Confidence;
using findings::Severity;
using tcp::Fact;
using tcp::Role;

namespace {

// The peer's first ACK of the FIN after the last transmission: the retransmission was answered.
const Fact* answer_after(const tcp::Connection& c, Role from, const Fact* last) {
  return first_fact(c, tcp::other(from), last,
                    [](const Fact& f) { return f.has(tcp::fact_tag::acks_peer_fin); });
}

}  // namespace

void detect_fin_retransmit(const Subject& s, const Context&, std::vector<findings::Finding>& out) {
  for (Role x : {Role::client, Role::server}) {
    const FactList tx = fin_transmissions(s.conn, x);
    if (tx.size() < 2) continue;
    const Fact* first = tx.front();
    const tcp::Endpoint& peer = s.ep(tcp::other(x));
    const bool peer_silent = peer.last_ts < first->ts || peer.counters.packets == 0;
    const LostFinalAck lost = find_lost_final_ack(s.conn, x);
    const char* cause = "fin_not_acknowledged";
    if (lost.valid)
      cause = "final_ack_lost";
    else if (peer_silent)
      cause = "unanswered";
    const Fact* answer = answer_after(s.conn, x, tx.back());
    const bool info = tx.size() == 2 && answer != nullptr;
    findings::Finding f =
        make_finding(s, "fin_retransmit", cause, info ? Severity::info : Severity::warning,
                     Confidence::confirmed);
    std::vector<const Fact*> ev(tx.begin(), tx.end());
    if (answer != nullptr) ev.push_back(answer);
    f.frames = frames_of(ev);
    f.ts = tx[1]->ts;
    const std::vector<double> gaps = intervals_s(tx);
    f.message =
        endpoint_name(s.conn, x) + " sent its FIN " + std::to_string(tx.size()) + " times (" +
        (lost.valid    ? std::string("the peer's final ACK was lost")
         : peer_silent ? std::string("nothing came back from the peer")
                       : std::string("the peer did not acknowledge it")) +
        (answer != nullptr ? "); it was finally acknowledged." : "); it was never acknowledged.");
    f.evidence.emplace_back("fin_seq", std::int64_t{s.ep(x).fin_seq.raw()});
    f.evidence.emplace_back("transmissions", static_cast<std::int64_t>(tx.size()));
    f.evidence.emplace_back("intervals_s", gaps);
    std::vector<double> backoff;
    for (std::size_t i = 1; i < gaps.size(); ++i) {
      if (gaps[i - 1] > 0) backoff.push_back(std::round(gaps[i] / gaps[i - 1] * 100) / 100);
    }
    f.evidence.emplace_back("backoff", backoff);
    f.evidence.emplace_back("answered", answer != nullptr);
    f.evidence.emplace_back("sender", std::string(role_name(x)));
    if (lost.valid) f.links.push_back({s.conn.id(), "lost_final_ack"});
    out.push_back(std::move(f));
  }
}

}  // namespace lastack::detect
