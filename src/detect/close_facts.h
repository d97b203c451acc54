// Queries over a connection's facts shared by the teardown detectors (private to detect/).
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <vector>

#include "lastack/detect/detector.h"

namespace lastack::detect {

// Pointers to some of one connection's facts, in order. Its capacity is all of them (a
// connection keeps at most Connection::kMaxFacts), so the queries below, which judge every
// connection, allocate nothing: returned as vectors, the FIN transmissions alone were three heap
// allocations per connection, 84 % of the judging thread's (callgrind, 200k packets).
class FactList {
 public:
  void push_back(const tcp::Fact* f) {
    if (size_ < items_.size()) items_[size_++] = f;
  }
  [[nodiscard]] std::size_t size() const { return size_; }
  [[nodiscard]] bool empty() const { return size_ == 0; }
  [[nodiscard]] const tcp::Fact* operator[](std::size_t i) const { return items_[i]; }
  [[nodiscard]] const tcp::Fact* front() const { return items_[0]; }
  [[nodiscard]] const tcp::Fact* back() const { return items_[size_ - 1]; }
  [[nodiscard]] const tcp::Fact* const* data() const { return items_.data(); }
  [[nodiscard]] const tcp::Fact* const* begin() const { return items_.data(); }
  [[nodiscard]] const tcp::Fact* const* end() const { return items_.data() + size_; }

 private:
  // Not zeroed: only the first size_ are ever read.
  std::array<const tcp::Fact*, tcp::Connection::kMaxFacts> items_;  // NOLINT(*-member-init)
  std::size_t size_ = 0;
};

using FactSpan = std::span<const tcp::Fact* const>;

// Linux's minimum retransmission timeout (TCP_RTO_MIN, 200 ms), less a tolerance for capture
// timing: a FIN re-sent sooner than this is not a timeout retransmission.
inline constexpr Duration kMinRto = Duration::from_ms(180);

// The transmissions of `role`'s FIN at its final fin_seq, duplicates excluded, in order.
FactList fin_transmissions(const tcp::Connection& c, tcp::Role role);

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
std::vector<double> intervals_s(FactSpan tx);

std::vector<FrameRef> frames_of(FactSpan facts);

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
  FactList transmissions;                    // all of p's FINs at its fin_seq
  FactList retransmissions;                  // those a timeout after the first
  const tcp::Fact* challenge_ack = nullptr;  // p's ACK in LAST_ACK answering a new SYN
  const tcp::Fact* final_ack = nullptr;      // a's ACK of p's FIN captured before the trigger
  const tcp::Fact* response = nullptr;       // a's answer after the trigger (ACK or RST)
  FactList answers;                          // every ACK of p's FIN or RST from a after it
  bool gap = false;                          // a capture gap in a→p
};

LostFinalAck find_lost_final_ack(const tcp::Connection& c, tcp::Role p);

}  // namespace lastack::detect
