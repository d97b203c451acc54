// The table of four-tuples and their incarnations, with timers on capture time. A connection is
// finalised (handed to `on_finalize`, then freed) once it is closed and 2MSL has passed, or idle
// beyond the limit; what is left is finalised by finish(). A four-tuple keeps its previous
// incarnation alive while a new one runs, so late segments of the old one can be recognised.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <vector>
#include <memory>
#include <optional>
#include <unordered_map>

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
  using FinalizeFn = std::function<void(std::unique_ptr<tcp::Connection>)>;

  FlowTable(FlowSettings settings, FinalizeFn on_finalize);

  void on_segment(const tcp::FourTuple& key, tcp::Dir dir, const tcp::Segment& s,
                  std::uint32_t interface_id);
  // Finalises what capture time `now` has retired. Cheap to call per packet: it only looks at
  // flows whose timer bucket is due.
  void expire(Timestamp now);
  // End of input: finalises everything, in connection-id order.
  void finish();

  [[nodiscard]] std::size_t live_connections() const { return live_; }
  // Segments that belonged to an incarnation already finalised (seen only in its tombstone).
  [[nodiscard]] std::uint64_t late_segments() const { return late_segments_; }
  [[nodiscard]] std::uint64_t connections_created() const { return next_id_; }

 private:
  struct Flow {
    std::unique_ptr<tcp::Connection> current;
    std::unique_ptr<tcp::Connection> previous;
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

  Flow& flow_of(const tcp::FourTuple& key, tcp::Dir dir, const tcp::Segment& s,
                std::uint32_t interface_id, tcp::FourTuple& flow_key);
  [[nodiscard]] bool carries(const Flow& f, tcp::Dir dir, const tcp::Segment& s) const;

  void route(const tcp::FourTuple& key, Flow& flow, tcp::Dir dir, const tcp::Segment& s,
             std::uint32_t interface_id);
  void start_incarnation(Flow& flow, const tcp::FourTuple& key, tcp::Dir dir, const tcp::Segment& s,
                         std::uint32_t interface_id);
  bool starts_new_incarnation(const tcp::Connection& cur, tcp::Role from,
                              const tcp::Segment& s) const;
  void finalize(std::unique_ptr<tcp::Connection>& c);
  void retire(Flow& flow, std::unique_ptr<tcp::Connection>& c);
  [[nodiscard]] Timestamp deadline(const Flow& f) const;
  void schedule(const tcp::FourTuple& key, Flow& f, std::int64_t not_before_s);
  void expire_flow(Flow& f, Timestamp now);
  bool absorbed_by_tomb(Flow& flow, tcp::Dir dir, const tcp::Segment& s);

  FlowSettings settings_;
  FinalizeFn on_finalize_;
  std::unordered_map<tcp::FourTuple, Flow, tcp::FourTupleHash> flows_;
  // Timer buckets by second of capture time: each flow sits in the bucket of its earliest
  // deadline, so expiry costs only what is due (not a scan of the table).
  std::map<std::int64_t, std::vector<tcp::FourTuple>> buckets_;
  std::uint64_t next_id_ = 0;
  std::size_t live_ = 0;
  std::uint64_t late_segments_ = 0;
  bool any_split_ = false;  // some interface's traffic was split off (flow_of)

};

}  // namespace lastack::flow
