// stale_segment (detections.md §3.6): a segment of the previous incarnation landed in the new
// one. The worst case is data inside the new receive window (RFC 1337 hazard H1).
#include "close_facts.h"

namespace lastack::detect {

using findings::Confidence;
using findings::Severity;
using tcp::Fact;
using tcp::Role;

namespace {

// Frames closer than this to the new SYN may just be reordered by the capture itself.
constexpr Duration kCaptureReorder = Duration::from_ms(1);
constexpr std::size_t kMaxFindings = 16;

const char* cause_of(const Fact& f) {
  if ((f.flags & decode::tcp_flag::rst) != 0) return "stale_rst";
  if ((f.flags & decode::tcp_flag::fin) != 0) return "stale_fin";
  if (f.len > 0) return "stale_data";
  return "stale_ack";
}

const char* reaction_name(Fact::Reaction r) {
  switch (r) {
    case Fact::Reaction::ack: return "ack";
    case Fact::Reaction::rst: return "rst";
    case Fact::Reaction::data: return "data";
    case Fact::Reaction::none: return "none";
  }
  return "none";
}

// The challenge ACK and the client's RST of a SYN that met a peer in LAST_ACK belong to
// tuple_reuse/while_last_ack, not here.
bool part_of_last_ack_handshake(const tcp::Connection& c, const Fact& f) {
  if (c.handshake_seen() && f.ts > c.handshake_ack_ts()) return false;
  // The server's pure ACK in the old space, and the client's RST answering it.
  const bool challenge =
      f.from == Role::server && f.len == 0 &&
      (f.flags & (decode::tcp_flag::syn | decode::tcp_flag::fin | decode::tcp_flag::rst)) == 0;
  const bool answer = f.from == Role::client && (f.flags & decode::tcp_flag::rst) != 0;
  return challenge || answer;
}

}  // namespace

void detect_stale_segment(const Subject& s, const Context&, std::vector<findings::Finding>& out) {
  const tcp::Connection& c = s.conn;
  if (!c.previous() || c.mid_stream()) return;
  const tcp::Endpoint& cl = c.endpoint(Role::client);
  if (!cl.isn_known) return;
  std::size_t emitted = 0;
  for (const Fact& f : c.facts()) {
    if (!f.has(tcp::fact_tag::stale) || emitted >= kMaxFindings) continue;
    if (f.ts - cl.first_syn.ts < kCaptureReorder || part_of_last_ack_handshake(c, f)) continue;
    const bool in_window = f.has(tcp::fact_tag::stale_in_window);
    const bool ack_ok = f.has(tcp::fact_tag::stale_ack_ok);
    const bool paws = f.has(tcp::fact_tag::stale_paws);
    // Taken as data only when the sequence number, the ack and the timestamp all pass.
    const bool acceptable = in_window && f.len > 0 && ack_ok && !paws;
    const bool is_rst = (f.flags & decode::tcp_flag::rst) != 0;
    const tcp::Endpoint& receiver = c.endpoint(tcp::other(f.from));
    const bool receiver_silent_after = is_rst && receiver.last_ts <= f.ts;
    // Critical or not turns on PAWS and the window when the segment carries data with an
    // acceptable ack. Bytes the snaplen cut can hide either: the segment's own timestamp or one
    // of its sender's in this incarnation (its latest TSval may be higher than seen), and a
    // SYN's window scale option (the window is then taken unscaled, so smaller). A test that
    // passed on what was captured also passes on the real bytes; one that failed may not have.
    const tcp::Endpoint& sender = c.endpoint(f.from);
    const bool paws_unknown = !paws && (f.has(tcp::fact_tag::ts_cut) || sender.ts_cut);
    const bool window_unknown =
        !in_window && (cl.syn_wscale_cut || c.endpoint(Role::server).syn_wscale_cut);
    const bool cut =
        f.len > 0 && ack_ok && ((in_window && paws_unknown) || (!paws && window_unknown));
    const bool accepted = c.endpoint(f.from).acked_unseen;
    Severity sev = Severity::warning;
    if (acceptable)
      sev = Severity::critical;
    else if (receiver_silent_after)
      sev = Severity::error;
    findings::Finding fd =
        make_finding(s, "stale_segment", cause_of(f), sev, Confidence::confirmed);
    fd.frames = {f.frame};
    fd.ts = f.ts;
    fd.message = "a segment of the previous connection on this four-tuple (from the " +
                 std::string(role_name(f.from)) + ") arrived " +
                 seconds_text(f.ts - cl.first_syn.ts) + " into the new one" +
                 (acceptable ? ", inside its receive window with an acceptable ack: old data "
                               "can be taken as new (RFC 1337 hazard H1)."
                  : in_window && paws ? ", inside its receive window, but its timestamp is old: "
                                        "PAWS drops it."
                  : in_window && f.len > 0 ? ", inside its receive window, but its ack is not "
                                             "acceptable (RFC 5961): it is dropped."
                  : receiver_silent_after  ? ", and the new connection went silent after it."
                                           : "; it lies outside the new connection's window.");
    fd.evidence.emplace_back("in_window", in_window);
    fd.evidence.emplace_back("ack_acceptable", ack_ok);
    fd.evidence.emplace_back("paws_reject", paws);
    fd.evidence.emplace_back("payload_bytes", std::int64_t{f.len});
    fd.evidence.emplace_back("seq", std::int64_t{f.seq.raw()});
    fd.evidence.emplace_back("reaction", std::string(reaction_name(f.reaction)));
    fd.evidence.emplace_back("receiver_acked_unsent_data", accepted);
    if (f.has_ts) fd.evidence.emplace_back("tsval", std::int64_t{f.ts_val});
    fd.evidence.emplace_back("previous_connection",
                             static_cast<std::int64_t>(c.previous()->connection_id));
    if (cut) mark_snaplen_cut(fd);
    out.push_back(std::move(fd));
    ++emitted;
  }
}

}  // namespace lastack::detect
