// One incarnation of a four-tuple: both endpoints, their RFC 9293 state machines, and the facts
// observed on the way. It records; detectors judge.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lastack/core/huge_pages.h"
#include "lastack/core/prefetch.h"
#include "lastack/tcp/endpoint.h"
#include "lastack/tcp/fact.h"
#include "lastack/tcp/four_tuple.h"
#include "lastack/tcp/segment.h"

namespace lastack::tcp {

// What a new incarnation remembers of the one before it on the same four-tuple (for reuse
// findings): taken when the new one starts.
struct PreviousIncarnation {
  std::uint64_t connection_id = 0;
  Timestamp end;  // final ACK of the TIME_WAIT holder, or the RST
  FrameRef end_frame;
  Timestamp last_ts;
  std::array<SeqNum, 2> snd_max{};  // per previous role
  std::array<SeqNum, 2> isn{};
  std::array<std::uint32_t, 2> ts_last{};
  std::array<SeqSpace, 2> space{};
  std::uint32_t incarnation = 0;
  Role client_role_now = Role::client;  // the previous client's role in the new incarnation
  Dir client_dir = Dir::a_to_b;
  bool closed = false;
  bool reset = false;
  bool time_wait_client = false;  // who held TIME_WAIT (in the previous roles)
  bool time_wait_server = false;
  bool client_fin_first = false;  // the previous client was the (first) active closer
  TcpState client_state = TcpState::closed;
  TcpState server_state = TcpState::closed;
  std::array<bool, 2> isn_known{};
  std::array<bool, 2> ts_seen{};
  std::array<bool, 2> ts_cut{};  // Endpoint::ts_cut: ts_last may be below the real last TSval

  // Does a segment (sent by `from_prev`, a role of the previous incarnation) belong to it?
  [[nodiscard]] bool fits(const Segment& s, Role from_prev) const;
};

class Connection {
 public:
  static constexpr std::size_t kMaxFacts = 96;
  static constexpr std::size_t kKeptFacts = 16;
  static constexpr std::size_t kFirstFacts = 8;
  // Facts storage of kFirstFacts or twice that comes from arenas on huge pages.
  using Facts = std::vector<Fact, SmallBlockAllocator<Fact, kFirstFacts>>;

  Connection(std::uint64_t id, std::uint32_t incarnation, const FourTuple& tuple, Dir client_dir,
             bool mid_stream);

  // Connection objects come from an arena of huge pages (core/huge_pages.h): thousands are
  // live at once, and the flow table recycles them, so their memory is touched once, at the
  // run's peak, a huge page at a time instead of a 4 KiB page at a time.
  static void* operator new(std::size_t bytes);
  static void operator delete(void* p, std::size_t bytes) noexcept;

  // Makes this object the connection the constructor would make, keeping only the facts
  // vector's capacity (up to kKeptFacts): the flow table recycles finalised connections, so
  // that tracking a new one allocates nothing, and a recycled one holds a bounded amount.
  void restart(std::uint64_t id, std::uint32_t incarnation, const FourTuple& tuple, Dir client_dir,
               bool mid_stream);

  // Role of the sender of a packet travelling in `dir`.
  [[nodiscard]] Role role_of(Dir dir) const {
    return dir == client_dir_ ? Role::client : Role::server;
  }

  // Runs one segment through both endpoints' state machines and records facts.
  void on_segment(const Segment& s, Role from, std::uint32_t extra_tags = 0);
  // Does the segment belong to this incarnation's sequence spaces (RFC 9293 §3.4 style test)?
  [[nodiscard]] bool fits(const Segment& s, Role from) const;
  // Records a segment of the previous incarnation that arrived while this one is live.
  void note_stale(const Segment& s, Role from);
  // A SYN with a new ISN while the client never got past SYN_SENT: an application retry.
  void note_syn_retry(const Segment& s);

  [[nodiscard]] const Endpoint& endpoint(Role r) const { return ep_[static_cast<int>(r)]; }
  [[nodiscard]] const Facts& facts() const { return facts_; }
  [[nodiscard]] std::uint32_t facts_dropped() const { return facts_dropped_; }
  [[nodiscard]] std::uint64_t id() const { return id_; }
  [[nodiscard]] std::uint32_t incarnation() const { return incarnation_; }
  [[nodiscard]] const FourTuple& tuple() const { return tuple_; }
  [[nodiscard]] Dir client_dir() const { return client_dir_; }
  [[nodiscard]] bool mid_stream() const { return mid_stream_; }
  [[nodiscard]] bool handshake_seen() const { return handshake_seen_; }
  // Time of the client's ACK that completed the handshake (valid when handshake_seen()).
  [[nodiscard]] Timestamp handshake_ack_ts() const { return handshake_ack_ts_; }
  [[nodiscard]] Timestamp first_ts() const { return first_ts_; }
  [[nodiscard]] Timestamp last_ts() const { return last_ts_; }
  [[nodiscard]] FrameRef first_frame() const { return first_frame_; }
  [[nodiscard]] std::uint32_t interface_id() const { return interface_id_; }
  void set_interface_id(std::uint32_t id) { interface_id_ = id; }
  [[nodiscard]] std::string_view history() const { return {history_.data(), history_len_}; }

  // An attempt whose handshake never completed — what a SYN flood fills a server's backlog
  // with (RFC 4987 §2): the client sent only SYNs (and RSTs), the server at most SYN-ACKs and
  // RSTs. Once anything else was sent (an ACK of the SYN-ACK, data, a FIN) it never is again.
  // Inline: the flow table asks after every segment.
  [[nodiscard]] bool half_open() const {
    if (mid_stream_ || !endpoint(Role::client).first_syn.seen) return false;
    const EndpointCounters& c = endpoint(Role::client).counters;
    const EndpointCounters& s = endpoint(Role::server).counters;
    return c.packets == c.syns + c.rsts + c.duplicates &&
           s.packets == s.syns + s.rsts + s.duplicates;
  }
  // Both FINs sent, or a RST accepted: the incarnation is over for reuse purposes.
  [[nodiscard]] bool closed() const { return reset_ || (ep_[0].fin_sent && ep_[1].fin_sent); }
  // Nothing more is expected: reset, or both FINs sent and acknowledged with no side left
  // waiting for an ACK (LAST_ACK, FIN_WAIT_1, CLOSING).
  [[nodiscard]] bool settled() const;
  // Asks the CPU for the cache lines that expiry reads: last_ts(), closed(), settled().
  void prefetch() const {
    for (const Endpoint& e : ep_) {
      lastack::prefetch(&e.state);
      lastack::prefetch(&e.fin_acked);
    }
    lastack::prefetch(&last_ts_);
    lastack::prefetch(&reset_);
  }
  // Asks for the whole object and the facts that judging reads (the detectors walk both), in
  // two steps: the facts' address is only known once the object has arrived.
  void prefetch_object() const { lastack::prefetch_span(this, sizeof(*this)); }
  void prefetch_facts() const {
    lastack::prefetch_span(facts_.data(), facts_.size() * sizeof(Fact));
  }
  [[nodiscard]] bool reset() const { return reset_; }
  [[nodiscard]] const Moment& reset_at() const { return reset_at_; }
  // When the incarnation ended: the last final ACK of a TIME_WAIT holder, else the RST, else
  // the last packet (then `seen` is false).
  [[nodiscard]] Moment end_moment() const;

  [[nodiscard]] const std::optional<PreviousIncarnation>& previous() const { return previous_; }
  void set_previous(const PreviousIncarnation& p) { previous_ = p; }
  [[nodiscard]] PreviousIncarnation snapshot() const;
  // The next incarnation started at this time (its first SYN).
  [[nodiscard]] const std::optional<Timestamp>& successor_start() const { return successor_start_; }
  [[nodiscard]] FrameRef successor_frame() const { return successor_frame_; }
  void set_successor_start(Timestamp t, FrameRef frame) {
    successor_start_ = t;
    successor_frame_ = frame;
  }

 private:
  Endpoint& ep(Role r) { return ep_[static_cast<int>(r)]; }
  bool is_duplicate(Endpoint& self, const Segment& s);
  [[nodiscard]] bool is_late_copy_of_fin(const Endpoint& self, const Segment& s) const;
  std::uint32_t classify(const Endpoint& self, const Endpoint& peer, const Segment& s) const;
  void track_sequence(Endpoint& self, Endpoint& peer, const Segment& s);
  void apply_ack(Endpoint& self, Endpoint& peer, const Segment& s, std::uint32_t& tags);
  void apply_syn(Endpoint& self, const Segment& s);
  void apply_fin(Endpoint& self, const Segment& s, std::uint32_t& tags);
  void apply_rst(Endpoint& self, Endpoint& peer, const Segment& s, std::uint32_t& tags);
  void count(Endpoint& self, const Segment& s);
  void record_reaction(Role from, const Segment& s);
  void track_ip_id(Endpoint& self, const Segment& s);
  [[nodiscard]] bool ip_id_fits(const Endpoint& self, const Segment& s) const;
  static constexpr std::int16_t kIpIdRun = 512;
  void add_history(Role from, char letter);
  void update_history(Role from, const Segment& s, std::uint32_t tags);
  bool worth_a_fact(const Endpoint& self, const Endpoint& peer, const Segment& s,
                    std::uint32_t tags) const;
  void add_fact(const Segment& s, Role from, std::uint32_t tags, TcpState self_before,
                TcpState peer_before);

  // Members are ordered by size to keep padding out of every tracked connection.
  std::array<Endpoint, 2> ep_{};
  Facts facts_;
  std::uint64_t id_;
  Timestamp handshake_ack_ts_;
  Moment reset_at_;
  Timestamp first_ts_;
  Timestamp last_ts_;
  FrameRef first_frame_;
  FrameRef last_frame_;
  std::optional<PreviousIncarnation> previous_;
  std::optional<Timestamp> successor_start_;
  FrameRef successor_frame_;
  std::uint32_t facts_dropped_ = 0;
  std::uint32_t incarnation_;
  std::uint32_t interface_id_ = 0;
  std::array<std::uint32_t, 2> history_letters_{};  // letters already recorded per role
  std::array<char, 32> history_{};
  FourTuple tuple_;
  std::uint8_t history_len_ = 0;
  Dir client_dir_;
  bool mid_stream_;
  bool handshake_seen_ = false;
  bool reset_ = false;
  bool started_ = false;
  // A stale segment whose receiver has not answered yet: index into facts_ (kNoStale: none;
  // facts_ never holds more than kMaxFacts) and the receiver.
  static constexpr std::uint8_t kNoStale = UINT8_MAX;
  static_assert(kMaxFacts < kNoStale);
  std::uint8_t stale_awaiting_reaction_ = kNoStale;
  Role stale_receiver_ = Role::client;
};

}  // namespace lastack::tcp
