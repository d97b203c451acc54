// Queries over a connection's facts shared by the teardown detectors (private to detect/).
#pragma once

#include <vector>

#include "lastack/detect/detector.h"

namespace lastack::detect {

// Linux's minimum retransmission timeout (TCP_RTO_MIN, 200 ms), less a tolerance for capture
// timing: a FIN re-sent sooner than this is not a timeout retransmission.
inline constexpr Duration kMinRto = Duration::from_ms(180);

// The transmissions of `role`'s FIN at its final fin_seq, duplicates excluded, in order.
std::vector<const tcp::Fact*> fin_transmissions(const tcp::Connection& c, tcp::Role role);

// The first fact from `from` at or after `after` (by time, then frame) that satisfies `pred`.
template <class Pred>
const tcp::Fact* first_fact(const tcp::Connection& c, tcp::Role from, const tcp::Fact* after,
                            Pred pred) {
  bool past = after == nullptr;
  for (const tcp::Fact& f : c.facts()) {
    if (&f == after) {
      past = true;
      continue;
    }
    if (past && f.from == from && !f.has(tcp::fact_tag::duplicate) && pred(f)) return &f;
  }
  return nullptr;
}

// `role` closed second: it sent its FIN after acknowledging the peer's (so it entered LAST_ACK).
bool closed_passively(const tcp::Connection& c, tcp::Role role);

// Seconds between consecutive transmissions.
std::vector<double> intervals_s(const std::vector<const tcp::Fact*>& tx);

std::vector<FrameRef> frames_of(const std::vector<const tcp::Fact*>& facts);

// "client 10.0.0.1:40000" style name of an endpoint.
std::string endpoint_name(const tcp::Connection& c, tcp::Role role);

// "%.3f" seconds, locale-independent.
std::string seconds_text(Duration d);

}  // namespace lastack::detect

namespace lastack::detect {

// detections.md §3.1: the passive closer `p` shows that the active closer's final ACK never
// reached it. Filled by find_lost_final_ack(); `valid` is false when the pattern is absent.
struct LostFinalAck {
  bool valid = false;
  tcp::Role passive = tcp::Role::server;
  std::vector<const tcp::Fact*> transmissions;    // all of p's FINs at its fin_seq
  std::vector<const tcp::Fact*> retransmissions;  // those a timeout after the first
  const tcp::Fact* challenge_ack = nullptr;       // p's ACK in LAST_ACK answering a new SYN
  const tcp::Fact* final_ack = nullptr;           // a's ACK of p's FIN captured before the trigger
  const tcp::Fact* response = nullptr;            // a's answer after the trigger (ACK or RST)
  std::vector<const tcp::Fact*> answers;          // every ACK of p's FIN or RST from a after it
  bool gap = false;                               // a capture gap in a→p
};

LostFinalAck find_lost_final_ack(const tcp::Connection& c, tcp::Role p);

}  // namespace lastack::detect
