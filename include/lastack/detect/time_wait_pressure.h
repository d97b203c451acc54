// time_wait_pressure (README "TIME_WAIT pressure"): not about one connection but about all of
// them. From the finished connection summaries it works out, over capture time,
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
#pragma once

#include <vector>

#include "lastack/findings/report.h"

namespace lastack::detect {

// Pure: reads report.connections, report.inputs (capture start/end) and report.settings; fills
// report.time_wait and appends findings. Call after every connection is finalised and before
// Report::finalize().
void analyze_time_wait_pressure(findings::Report& report);

// The same from parts, for tests: returns the pressure section, appends findings to `out`.
findings::TimeWaitPressure compute_time_wait_pressure(
    const std::vector<findings::ConnectionSummary>& connections,
    const std::vector<findings::InputReport>& inputs, const findings::Settings& settings,
    std::vector<findings::Finding>& out);

}  // namespace lastack::detect
