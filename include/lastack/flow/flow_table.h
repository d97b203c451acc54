// The table of four-tuples and their incarnations, with timers on capture time. A connection is
// finalised (handed to `on_finalize`, then recycled) once it is closed and 2MSL has passed, or
// idle beyond the limit; what is left is finalised by finish(). A four-tuple keeps its previous
// incarnation alive while a new one runs, so late segments of the old one can be recognised.
// The per-packet path allocates nothing in the steady state: flows live in a flat index and a
// slab, finalised connections are reused (with their facts storage) for new ones.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <vector>

#include "lastack/flow/flat_flow_map.h"
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
};

class FlowTable {
 public:
  // Called once per finalised connection. The table recycles the object once the call returns:
  // keep nothing that points into it.
  using FinalizeFn = std::function<void(const tcp::Connection&)>;

  FlowTable(FlowSettings settings, FinalizeFn on_finalize);

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

 private:
  struct Flow {
    tcp::Connection* current = nullptr;  // owned by connections_
    tcp::Connection* previous = nullptr;
    // What is left of the last finalised incarnation until 2MSL after its last packet.
    std::optional<tcp::PreviousIncarnation> tomb;
    Timestamp tomb_until;
    std::uint32_t incarnations = 0;
    std::int64_t scheduled_s = -1;  // the timer bucket this flow waits in (-1: none)
    // Capture interfaces (bit n = pcapng interface n; ids from 63 on share bit 63) whose
    // segments on this key are this flow's traffic (joined), or other traffic with a flow of
    // its own (split). See flow_of().
    std::uint64_t joined_ifaces = 0;
    std::uint64_t split_ifaces = 0;
  };

  static std::int64_t second_of(Timestamp t) { return t.ns / 1'000'000'000; }
  Flow& flow_of(const tcp::FourTuple& key, tcp::Dir dir, const tcp::Segment& s,
                std::uint32_t interface_id, tcp::FourTuple& flow_key);
  [[nodiscard]] bool carries(const Flow& f, tcp::Dir dir, const tcp::Segment& s) const;
  Flow& flow_at(const tcp::FourTuple& key, bool& fresh);

  void route(const tcp::FourTuple& key, Flow& flow, tcp::Dir dir, const tcp::Segment& s,
             std::uint32_t interface_id);
  void start_incarnation(Flow& flow, const tcp::FourTuple& key, tcp::Dir dir, const tcp::Segment& s,
                         std::uint32_t interface_id);
  bool starts_new_incarnation(const tcp::Connection& cur, tcp::Role from,
                              const tcp::Segment& s) const;
  tcp::Connection* make_connection(const tcp::FourTuple& key, tcp::Dir client_dir,
                                   std::uint32_t incarnation, bool mid_stream);
  void finalize(tcp::Connection*& c);
  void retire(Flow& flow, tcp::Connection*& c);
  [[nodiscard]] Timestamp deadline(const Flow& f) const;
  void schedule(const tcp::FourTuple& key, Flow& f, std::int64_t not_before_s);
  void expire_due(Timestamp now);
  void expire_flow(Flow& f, Timestamp now);
  bool absorbed_by_tomb(Flow& flow, tcp::Dir dir, const tcp::Segment& s);
  std::uint32_t add_flow();
  void remove_flow(const tcp::FourTuple& key, std::uint32_t at);

  FlowSettings settings_;
  FinalizeFn on_finalize_;
  FlatFlowMap index_;                    // four-tuple → position in flows_
  std::vector<Flow> flows_;              // a slab: positions are reused through free_flows_
  std::vector<std::uint32_t> free_flows_;
  std::deque<tcp::Connection> connections_;  // every connection object made (stable addresses)
  std::vector<tcp::Connection*> spare_;      // finalised ones, ready for reuse
  // Timer buckets by second of capture time: each flow sits in the bucket of its earliest
  // deadline, so expiry costs only what is due (not a scan of the table). A map node per second
  // of capture is cheap; what matters is that expire() does not touch the map until the
  // earliest bucket (next_due_s_) is due, and that bucket vectors are reused.
  std::map<std::int64_t, std::vector<tcp::FourTuple>> buckets_;
  std::int64_t next_due_s_ = INT64_MAX;
  std::vector<tcp::FourTuple> spare_bucket_;
  std::uint64_t next_id_ = 0;
  const tcp::Connection* started_ = nullptr;
  std::size_t live_ = 0;
  std::uint64_t late_segments_ = 0;
  bool any_split_ = false;  // some interface's traffic was split off (flow_of)

};

}  // namespace lastack::flow
