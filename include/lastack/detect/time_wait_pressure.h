// time_wait_pressure (README "TIME_WAIT pressure"): not about one connection but about all of
// them. From the connections it works out, over capture time,
//   - per TIME_WAIT holder (address + role) how many TIME_WAIT entries it held at once; each
//     entry lasts the configured TIME_WAIT from its start, ended early by a reuse of the
//     four-tuple (the next incarnation's first packet) or by a RST (the connection's last packet);
//   - per (client ip, server ip, server port) how many ports of the ephemeral range are tied up
//     (open connections plus the client's own TIME_WAIT entries) and the new-connection rate,
//     against the sustainable rate (range size / TIME_WAIT);
// and raises findings of kind `time_wait_pressure` (connection_id 0, `subject` set):
//   port_exhaustion_risk   ports in use ≥ 50 % of the range: warning; ≥ 90 %: error
//   rate_above_sustainable new connections within one second > range / TIME_WAIT: info while
//                          the range absorbed it (< 50 % in use), else warning
//   server_holds_time_wait a server was the active closer for most of its connections and held
//                          ≥ Settings::server_tw_peak TIME_WAIT entries at once: warning
//
// One implementation, streaming: TimeWaitAccumulator. The batch entry points below feed it.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "lastack/core/ip_address.h"
#include "lastack/core/timestamp.h"
#include "lastack/findings/report.h"

namespace lastack::detect {

// What is known about a connection at its first packet.
struct ConnectionStart {
  std::uint64_t id = 0;
  IpAddress client_ip;
  IpAddress server_ip;
  std::uint16_t client_port = 0;
  std::uint16_t server_port = 0;
  Timestamp first_ts;
  bool mid_stream = false;
  std::uint32_t input = 0;
  std::uint64_t first_frame = 0;
  std::uint32_t incarnation = 1;  // informational: reuse is matched on the four-tuple alone
};

// The start of a finished summary (for callers that only have summaries).
ConnectionStart start_of(const findings::ConnectionSummary& c);

// TIME_WAIT pressure computed while the capture streams by, in memory bounded by the activity of
// the last `max_lateness` of capture time plus a bounded state per holder and per pair (not by
// the number of connections). The results are those of a batch sweep over every connection.
//
// Calls, in capture-time order:
//   on_start  for every connection at its first packet, in id order;
//   on_end    for every connection once it is finalised (any order), at the latest when capture
//             time reaches (its TIME_WAIT start, else its last packet) + max_lateness — or, for
//             one that on_start was not given yet, while advance's `hold` is at most its first
//             packet;
//   advance   whenever capture time moves (per packet is fine: O(1) when nothing is due); call it
//             with the capture's first timestamp before anything else — the series grid is
//             anchored at the first time the accumulator is given. `hold`: nothing from then on
//             is swept yet (the caller still has connections of that age to tell of: a half-open
//             attempt is told of when answered or at its end, maybe long after its first SYN);
//   finish    once, after every connection had its on_end.
// Events before `now - max_lateness` and `hold` (and not after the last packet of an ended
// connection) are final: advance() sweeps them in the batch order and frees what they held. An
// event arriving older than what was already swept (a caller breaking the lateness bound) cannot be
// put back in order: it is applied just after the last swept event instead, an entry wholly in the
// swept past is left out of the counts, and late_events() counts them. With the bound kept, results
// are exactly those of the batch sweep; series of captures over ~1200 s may get a step up to twice
// the batch one (the smallest multiple of the step they were coarsened to).
class TimeWaitAccumulator {
 public:
  TimeWaitAccumulator(const findings::Settings& settings, Duration max_lateness);
  ~TimeWaitAccumulator();
  TimeWaitAccumulator(TimeWaitAccumulator&&) noexcept;
  TimeWaitAccumulator& operator=(TimeWaitAccumulator&&) noexcept;
  TimeWaitAccumulator(const TimeWaitAccumulator&) = delete;
  TimeWaitAccumulator& operator=(const TimeWaitAccumulator&) = delete;

  void on_start(const ConnectionStart& s);
  void on_end(const findings::ConnectionSummary& c);
  void advance(Timestamp now, Timestamp hold = Timestamp{INT64_MAX});
  // Hints for a caller that knows its next calls (results are the same without them): start
  // loading the index slots that on_start(s) will look up, then the records it will count in
  // (best once those slots are in cache); the index slot that on_end of connection `id` will
  // look up; its record (likewise).
  void prefetch_start(const ConnectionStart& s) const;
  void prefetch_start_records(const ConnectionStart& s) const;
  void prefetch_end(std::uint64_t id) const;
  void prefetch_record(std::uint64_t id) const;
  // The pressure section over the whole capture (its start and end also from `inputs`);
  // appends the findings to `out`. Call once.
  findings::TimeWaitPressure finish(const std::vector<findings::InputReport>& inputs,
                                    std::vector<findings::Finding>& out);

  // Memory accounting, for tests and diagnostics: events not swept yet, connections whose
  // record is still needed (live, or with events not swept), four-tuples remembered for reuse.
  [[nodiscard]] std::size_t pending_events() const;
  [[nodiscard]] std::size_t tracked_connections() const;
  [[nodiscard]] std::size_t tracked_tuples() const;
  // Events that came older than the swept frontier (should stay 0; see the class comment).
  [[nodiscard]] std::uint64_t late_events() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Raises the findings of a computed pressure section (sets under_pressure on what they name).
void append_time_wait_findings(findings::TimeWaitPressure& tw, std::vector<findings::Finding>& out);

// Batch: reads report.connections, report.inputs (capture start/end) and report.settings; fills
// report.time_wait and appends findings. Call after every connection is finalised and before
// Report::finalize().
void analyze_time_wait_pressure(findings::Report& report);

// The same from parts, for tests: returns the pressure section, appends findings to `out`.
findings::TimeWaitPressure compute_time_wait_pressure(
    const std::vector<findings::ConnectionSummary>& connections,
    const std::vector<findings::InputReport>& inputs, const findings::Settings& settings,
    std::vector<findings::Finding>& out);

}  // namespace lastack::detect
