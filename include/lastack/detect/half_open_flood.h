// half_open_flood: not about one connection. When the flow table had to drop half-open
// attempts (SYN seen, handshake never completed) to stay within --memcap, the capture held
// more of them at once than the cap allows — a SYN flood (RFC 4987) or a scan. One warning
// (connection_id 0, `subject` names the most targeted server) says how many were folded into
// per-server counts instead of being analysed, and against which servers.
#pragma once

#include <optional>

#include "lastack/findings/report.h"

namespace lastack::detect {

// Pure: the finding for a degradation that evicted half-open attempts, else nothing.
std::optional<findings::Finding> detect_half_open_flood(const findings::Degradation& d);

// Appends that finding to report.findings when report.degraded calls for it. Call before
// Report::finalize().
void analyze_half_open_flood(findings::Report& report);

}  // namespace lastack::detect
