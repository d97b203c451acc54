// The table of four-tuples and their incarnations, with timers on capture time. A connection is
// finalised (handed to `on_finalize`, then recycled) once it is closed and 2MSL has passed, or
// idle beyond the limit; what is left is finalised by finish(). A four-tuple keeps its previous
// incarnation alive while a new one runs, so late segments of the old one can be recognised.
// The per-packet path allocates nothing in the steady state: flows live in a flat index and a
// slab, finalised connections are reused (with their facts storage) for new ones.
//
// Memory budget (FlowSettings::memory_budget): before a new connection would take the table
// over it, the table evicts — first the oldest half-open attempt (dropped unanalysed and
// counted per server: under a SYN flood these are the flood, RFC 4987), then, when none is
// left, the least recently active four-tuple (its connections finalised early, as an idle
// timeout would). evictions() says what was given up.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "lastack/core/flat_index.h"
#include "lastack/core/huge_pages.h"
#include "lastack/flow/eviction_stats.h"
#include "lastack/tcp/connection.h"
#include "lastack/tcp/four_tuple.h"
#include "lastack/tcp/segment.h"

namespace lastack::flow {

struct FlowSettings {
  Duration msl = Duration::from_s(30);
  Duration idle_timeout = Duration::from_s(300);
  // A settled connection (both FINs acknowledged, or reset) is finalised after this much quiet
  // and leaves only a small tombstone for reuse detection until 2MSL has passed. A FIN
  // re-sent later than this (Linux's backoff reaches 30 s after seven lost re-ACKs in a row)
  // is then counted, not analysed.
  Duration settle = Duration::from_s(30);
  // Bytes the table may hold in flows and connections, as accounted by bytes_in_use(); 0 means
  // no limit.
  std::uint64_t memory_budget = 0;
  // What each connection goes on costing the caller once finalised (the pipeline: its summary
  // in the report), accounted with the connection so that the budget covers it too.
  std::uint64_t caller_bytes_per_connection = 0;
};

class FlowTable {
 public:
  // Called once per finalised connection. The callee may take the object, leaving in its place
  // null or a connection object it is done with; the table recycles what is left once the call
  // returns (keep nothing that points into it). Taking it instead of copying it saves the
  // pipeline a copy of every connection.
  using FinalizeFn = std::function<void(std::unique_ptr<tcp::Connection>&)>;

  FlowTable(FlowSettings settings, FinalizeFn on_finalize);
  // The index refers to this table's slab.
  FlowTable(const FlowTable&) = delete;
  FlowTable& operator=(const FlowTable&) = delete;

  void on_segment(const tcp::FourTuple& key, tcp::Dir dir, const tcp::Segment& s,
                  std::uint32_t interface_id);
  // Finalises what capture time `now` has retired. Called per packet, so the common case (no
  // timer bucket due) is one comparison; otherwise it looks only at the flows that are due.
  void expire(Timestamp now) {
    if (second_of(now) >= next_due_s_) expire_due(now);
  }
  // End of input: finalises everything, in connection-id order.
  void finish();

  [[nodiscard]] std::size_t live_connections() const { return live_; }
  // Segments that belonged to an incarnation already finalised (seen only in its tombstone).
  [[nodiscard]] std::uint64_t late_segments() const { return late_segments_; }
  [[nodiscard]] std::uint64_t connections_created() const { return next_id_; }
  // The connection the last on_segment() started (nullptr when it started none); valid until the
  // next call.
  [[nodiscard]] const tcp::Connection* started() const { return started_; }
  // The connection the last on_segment() took out of the half-open state (its first packet
  // beyond SYNs and RSTs), nullptr when none; valid until the next call.
  [[nodiscard]] const tcp::Connection* answered() const { return answered_; }
  // The first packet of the oldest connection still half-open (SYNs and RSTs only; INT64_MAX
  // when there is none). Timestamps that go backwards can make an older one wait behind it.
  [[nodiscard]] Timestamp oldest_half_open() const {
    return half_open_.head == kNil ? Timestamp{INT64_MAX}
                                   : flows_[half_open_.head].current->first_ts();
  }
  // What was evicted to stay within the memory budget.
  [[nodiscard]] EvictionStats evictions() const;
  // The accounted footprint of what the table holds now (compared with the budget).
  [[nodiscard]] std::uint64_t bytes_in_use() const;
  // Accounted bytes per connection object and per four-tuple (see flow_table.cpp).
  [[nodiscard]] std::uint64_t connection_bytes() const;
  static std::uint64_t flow_bytes();

 private:
  static constexpr std::uint32_t kNil = UINT32_MAX;
  // Links of an intrusive doubly linked list threaded through flows_ by position.
  struct Links {
    std::uint32_t prev = kNil;
    std::uint32_t next = kNil;
  };
  struct List {
    std::uint32_t head = kNil;
    std::uint32_t tail = kNil;
  };
  struct Flow {
    // First, in the cache line of the connection pointers: the index compares it on every
    // lookup (KeyOfFlow) just before the packet goes to a connection.
    tcp::FourTuple key;
    std::unique_ptr<tcp::Connection> current;
    std::unique_ptr<tcp::Connection> previous;
    // What is left of the last finalised incarnation until 2MSL after its last packet.
    std::optional<tcp::PreviousIncarnation> tomb;
    Timestamp tomb_until;
    std::uint32_t incarnations = 0;
    std::int64_t scheduled_s = -1;  // the timer bucket this flow waits in (-1: none)
    Links timer;                    // in that bucket's list
    // Capture interfaces (bit n = pcapng interface n; ids from 63 on share bit 63) whose
    // segments on this key are this flow's traffic (joined), or other traffic with a flow of
    // its own (split). See flow_of().
    std::uint64_t joined_ifaces = 0;
    std::uint64_t split_ifaces = 0;
    Links recent;                     // in recent_: least recently active first
    Links half_open;                  // in half_open_ while half_open_id != 0
    std::uint64_t half_open_id = 0;   // the id of `current` when listed as half-open
    std::uint64_t unanswered_id = 0;  // `current` began half-open and is not answered yet
  };

  // The index reads each flow's key from the slab (Flow::key, set before the flow is indexed):
  // 8-byte slots, so the per-packet lookup's slot is far more often in cache.
  struct KeyOfFlow {
    const HugeVector<Flow>* flows = nullptr;
    const tcp::FourTuple& operator()(std::uint32_t at) const { return (*flows)[at].key; }
  };
  using Index = FlatIndex<tcp::FourTuple, tcp::FourTupleHash, KeyOfFlow>;

  static std::int64_t second_of(Timestamp t) { return t.ns / kNsPerSec; }
  // The slab position of the flow a segment belongs to (made when new); `flow_key` its key.
  std::uint32_t flow_of(const tcp::FourTuple& key, tcp::Dir dir, const tcp::Segment& s,
                        std::uint32_t interface_id, tcp::FourTuple& flow_key);
  [[nodiscard]] bool carries(const Flow& f, tcp::Dir dir, const tcp::Segment& s) const;
  void note_answer(Flow& flow);

  void route(const tcp::FourTuple& key, Flow& flow, tcp::Dir dir, const tcp::Segment& s,
             std::uint32_t interface_id);
  void start_incarnation(Flow& flow, const tcp::FourTuple& key, tcp::Dir dir, const tcp::Segment& s,
                         std::uint32_t interface_id);
  bool starts_new_incarnation(const tcp::Connection& cur, tcp::Role from,
                              const tcp::Segment& s) const;
  std::unique_ptr<tcp::Connection> make_connection(const tcp::FourTuple& key, tcp::Dir client_dir,
                                                   std::uint32_t incarnation, bool mid_stream);
  void finalize(std::unique_ptr<tcp::Connection>& c);
  void retire(Flow& flow, std::unique_ptr<tcp::Connection>& c);
  [[nodiscard]] Timestamp deadline(const Flow& f) const;
  void schedule(Flow& f, std::int64_t not_before_s);
  void unschedule(Flow& f);
  void expire_due(Timestamp now);
  void prefetch_ahead(std::uint32_t next) const;
  void expire_flow(Flow& f, Timestamp now);
  bool absorbed_by_tomb(Flow& flow, tcp::Dir dir, const tcp::Segment& s);
  std::uint32_t add_flow(const tcp::FourTuple& key);
  void remove_flow(std::uint32_t at);
  [[nodiscard]] std::uint32_t position(const Flow& f) const {
    return static_cast<std::uint32_t>(&f - flows_.data());
  }
  void link_back(List& list, Links Flow::*links, std::uint32_t at);
  void unlink(List& list, Links Flow::*links, std::uint32_t at);
  void touch(std::uint32_t at);
  void track_half_open(std::uint32_t at);
  void make_room(std::uint32_t keep, bool connection, bool flow);
  bool evict_half_open(std::uint32_t keep);
  bool evict_least_recent(std::uint32_t keep);

  FlowSettings settings_;
  FinalizeFn on_finalize_;
  HugeVector<Flow> flows_;           // a slab: positions are reused through free_flows_
  Index index_{KeyOfFlow{&flows_}};  // four-tuple → position in flows_
  std::vector<std::uint32_t> free_flows_;
  // Finalised connections, ready for reuse; with the live ones, connection_objects_ in all.
  std::vector<std::unique_ptr<tcp::Connection>> spare_;
  std::size_t connection_objects_ = 0;
  // Timer buckets by second of capture time: each flow sits in the bucket of its earliest
  // deadline, so expiry costs only what is due (not a scan of the table). A bucket is a list
  // threaded through the flows (Flow::timer): a flow is in one bucket at most, moving it costs
  // no allocation, and a flow that goes leaves nothing behind. A map node per second of capture
  // is cheap; what matters is that expire() does not touch the map until the earliest bucket
  // (next_due_s_) is due.
  std::map<std::int64_t, List> buckets_;
  std::int64_t next_due_s_ = INT64_MAX;
  List recent_;            // every flow, least recently active first
  List half_open_;         // flows whose current connection is half-open, oldest first
  EvictionStats evicted_;  // by_target and other_targets are filled by evictions()
  TargetCounts evicted_targets_;
  std::uint64_t next_id_ = 0;
  const tcp::Connection* started_ = nullptr;
  const tcp::Connection* answered_ = nullptr;
  std::size_t live_ = 0;
  std::uint64_t late_segments_ = 0;
  bool any_split_ = false;  // some interface's traffic was split off (flow_of)
};

}  // namespace lastack::flow
