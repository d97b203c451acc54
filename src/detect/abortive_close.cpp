// abortive_close (detections.md §3.4): an established connection ended by RST with no FIN of
// the sender's own (SO_LINGER {1,0}, close() with unread data, a killed process).
#include "close_facts.h"

namespace lastack::detect {

using findings::Confidence;
using findings::Severity;
using tcp::Fact;
using tcp::Role;
using tcp::TcpState;

namespace {

bool established_like(TcpState s) {
  return s == TcpState::established || s == TcpState::close_wait;
}

const Fact* first_rst(const tcp::Connection& c, Role x) {
  for (const Fact& f : c.facts()) {
    if (f.from == x && (f.flags & decode::tcp_flag::rst) != 0 && !f.has(tcp::fact_tag::duplicate) &&
        !f.has(tcp::fact_tag::stale)) {
      return &f;
    }
  }
  return nullptr;
}

// A lone RST (a capture that starts with it) says nothing about what it ended: the connection
// must have been seen established — its handshake, or traffic from both sides before the RST.
bool seen_established(const tcp::Connection& c, Role x, const Fact& r) {
  if (c.handshake_seen()) return true;
  const tcp::Endpoint& ex = c.endpoint(x);
  const tcp::Endpoint& ey = c.endpoint(tcp::other(x));
  const std::uint64_t before_x = ex.counters.packets - ex.counters.rsts;
  return before_x > 0 && ey.counters.packets > 0 && c.first_frame() < r.frame;
}

}  // namespace

void detect_abortive_close(const Subject& s, const Context&, std::vector<findings::Finding>& out) {
  for (Role x : {Role::client, Role::server}) {
    const Fact* r = first_rst(s.conn, x);
    if (r == nullptr || !established_like(r->self_before)) continue;
    const tcp::Endpoint& ex = s.ep(x);
    if (ex.fin_sent && ex.first_fin.ts <= r->ts) continue;  // closed first: rst_after_close
    if (!r->has(tcp::fact_tag::rst_exact) && !r->has(tcp::fact_tag::rst_in_window)) continue;
    if (s.conn.successor_start() && r->ts >= *s.conn.successor_start()) continue;
    if (!seen_established(s.conn, x, *r)) continue;
    const tcp::Endpoint& ey = s.ep(tcp::other(x));
    const bool peer_sent_later = ey.last_new_data.seen && ey.last_new_data.ts > r->ts;
    const bool unread = r->unacked_by_self > 0 || peer_sent_later;
    findings::Finding f =
        make_finding(s, "abortive_close", unread ? "unread_data" : "linger_zero",
                     unread ? Severity::error : Severity::warning, Confidence::confirmed);
    f.frames = {r->frame};
    f.ts = r->ts;
    f.message = endpoint_name(s.conn, x) + " ended the connection with RST and no FIN" +
                (unread ? ": data the " + std::string(role_name(tcp::other(x))) +
                              " sent was never acknowledged and is lost (close() with unread data "
                              "or SO_LINGER 0 with data in flight)."
                        : ": nothing was outstanding, so this looks like SO_LINGER 0, which skips "
                          "TIME_WAIT on purpose.");
    f.evidence.emplace_back("state", std::string(tcp::to_string(r->self_before)));
    f.evidence.emplace_back("unacked_from_peer_bytes", std::int64_t{r->unacked_by_self});
    f.evidence.emplace_back("unacked_by_peer_bytes", std::int64_t{r->unacked_by_peer});
    f.evidence.emplace_back("peer_sent_after_rst", peer_sent_later);
    out.push_back(std::move(f));
  }
}

}  // namespace lastack::detect
