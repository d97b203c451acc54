// TIME_WAIT pressure over the whole capture (README "TIME_WAIT pressure"): who holds TIME_WAIT
// entries and how many at once, and how many ephemeral ports each client ties up towards one
// server ip:port. Built from the per-connection summaries once every connection is finalised.
//
// Every figure is a LOWER BOUND: TIME_WAIT entries and open connections that began before the
// capture are invisible (their packets are not in it), as are idle connections that sent nothing.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "lastack/core/frame_ref.h"
#include "lastack/core/ip_address.h"
#include "lastack/core/timestamp.h"
#include "lastack/findings/connection_summary.h"

namespace lastack::findings {

// A step series compact enough to plot: [offset from the capture start in seconds, value] at
// each step whose value differs from the previous step's. Each step's value is the maximum
// reached during that step (`series_step_s` seconds; 1 s unless the capture is long).
using StepSeries = std::vector<std::pair<std::int64_t, std::uint64_t>>;

// A "when and where" of a maximum: its time and the first frame of the connection that reached it.
struct PeakAt {
  std::uint64_t value = 0;
  std::optional<Timestamp> ts;  // unset when value == 0
  FrameRef frame;
  std::uint64_t connection_id = 0;
};

// One address in one role: TIME_WAIT held as a client (outgoing connections: each entry blocks an
// ephemeral port) or as a server (incoming connections it closed first).
struct TimeWaitHolder {
  IpAddress ip;
  Side role = Side::client;         // client or server (a simultaneous close counts for both)
  std::uint64_t connections = 0;    // connections with this address in this role
  std::uint64_t closed = 0;         // of those, connections with a known active closer
  std::uint64_t active_closes = 0;  // of those, closed first by this side (incl. simultaneous)
  std::uint64_t entries = 0;        // TIME_WAIT entries seen start
  PeakAt peak;                      // most entries alive at once
  PeakAt peak_rate;                 // most entries begun within one second (sliding)
  bool lower_bound = true;          // see lower_bound() in the analysis
  bool under_pressure = false;      // a time_wait_pressure finding names it
  StepSeries series;
};

// One client address towards one server ip:port: the ports it ties up (open connections plus its
// own TIME_WAIT entries) and its new-connection rate.
struct TimeWaitPair {
  IpAddress client_ip;
  IpAddress server_ip;
  std::uint16_t server_port = 0;
  std::uint64_t connections = 0;        // all connections of the pair
  std::uint64_t outside_range = 0;      // of those, with a client port outside the port range
  std::uint64_t time_wait_entries = 0;  // client-side TIME_WAIT entries (ports in range)
  PeakAt peak;                          // most ports of the range in use at once
  std::uint64_t time_wait_at_peak = 0;  // of the peak, ports held by TIME_WAIT (rest: open)
  PeakAt peak_rate;                     // most new connections (SYN seen) within one second
  bool lower_bound = true;
  bool under_pressure = false;
  StepSeries series;
};

struct TimeWaitPressure {
  Duration time_wait = Duration::from_s(60);
  std::uint16_t port_lo = 32768;
  std::uint16_t port_hi = 60999;
  std::uint64_t server_peak_warn = 1000;
  std::optional<Timestamp> capture_start;
  std::optional<Timestamp> capture_end;
  std::int64_t series_step_s = 1;
  // Events of connections finalised so long after their TIME_WAIT began (or their last packet)
  // that the streaming sweep had passed them: applied at its edge, so the counts around them
  // are approximate (README "Limitations").
  std::uint64_t late_events = 0;
  std::vector<TimeWaitHolder> holders;  // all, most entries at once first
  std::vector<TimeWaitPair> pairs;      // all, most ports in use first

  [[nodiscard]] std::uint64_t range_size() const {
    return port_hi >= port_lo ? static_cast<std::uint64_t>(port_hi - port_lo) + 1 : 0;
  }
  // New connections per second one (client ip, server ip:port) sustains: range / TIME_WAIT.
  // Unset when TIME_WAIT is zero (any rate is sustainable).
  [[nodiscard]] std::optional<double> sustainable_rate() const {
    if (time_wait.ns <= 0) return std::nullopt;
    return static_cast<double>(range_size()) / time_wait.seconds();
  }
};

}  // namespace lastack::findings
