// fin_seq_changed (detections.md §3.2): a side sent a FIN at another sequence number than its
// earlier FIN. Not a retransmission: data after a FIN breaks RFC 9293 §3.6 (nothing may follow
// a FIN), a lower one means the first FIN was not what the stack meant. Worth an info.
#include "close_facts.h"

namespace lastack::detect {

using findings::Confidence;
using findings::Severity;
using tcp::Fact;
using tcp::Role;

namespace {

SeqNum fin_seq_of(const Fact& f) {
  return f.seq + f.len + ((f.flags & decode::tcp_flag::syn) != 0 ? 1U : 0U);
}

}  // namespace

void detect_fin_seq_changed(const Subject& s, const Context&, std::vector<findings::Finding>& out) {
  for (Role x : {Role::client, Role::server}) {
    const Fact* first = nullptr;
    const Fact* moved = nullptr;
    for (const Fact& f : s.conn.facts()) {
      if (f.from != x || (f.flags & decode::tcp_flag::fin) == 0 ||
          f.has(tcp::fact_tag::duplicate) || f.has(tcp::fact_tag::stale)) {
        continue;
      }
      if (first == nullptr) first = &f;
      if (f.has(tcp::fact_tag::fin_seq_changed)) {
        moved = &f;
        break;
      }
    }
    if (first == nullptr || moved == nullptr) continue;
    const std::int32_t delta = fin_seq_of(*moved).since(fin_seq_of(*first));
    findings::Finding f =
        make_finding(s, "fin_seq_changed", delta > 0 ? "data_after_fin" : "moved_back",
                     Severity::info, Confidence::confirmed);
    f.frames = {first->frame, moved->frame};
    f.ts = moved->ts;
    f.message = endpoint_name(s.conn, x) + " sent a second FIN " + std::to_string(delta) +
                " bytes " + (delta > 0 ? "after" : "before") +
                " its first one: not a retransmission; " +
                (delta > 0 ? "it sent data after closing (RFC 9293 §3.6)."
                           : "its first FIN was misplaced.");
    f.evidence.emplace_back("first_fin_seq", std::int64_t{fin_seq_of(*first).raw()});
    f.evidence.emplace_back("new_fin_seq", std::int64_t{fin_seq_of(*moved).raw()});
    out.push_back(std::move(f));
  }
}

}  // namespace lastack::detect
