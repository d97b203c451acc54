// Detectors: one pure function per finding kind over a finished connection's facts. No I/O, no
// globals, no clock: the same connection always gives the same findings.
#pragma once

#include <string>
#include <vector>

#include "lastack/detect/time_wait_pressure.h"
#include "lastack/findings/connection_summary.h"
#include "lastack/findings/finding.h"
#include "lastack/tcp/connection.h"

namespace lastack::detect {

struct Context {
  Duration msl = Duration::from_s(30);
  Duration time_wait = Duration::from_s(60);
};

// What every detector needs besides the connection: the names of its ends and the vantage.
struct Subject {
  const tcp::Connection& conn;
  findings::Vantage vantage = findings::Vantage::unknown;
  std::string vantage_basis;  // "ttl", "timing" or "none"

  [[nodiscard]] const tcp::Endpoint& ep(tcp::Role r) const { return conn.endpoint(r); }
};

// A finding about `s.conn` with the common fields filled in.
findings::Finding make_finding(const Subject& s, std::string kind, std::string cause,
                               findings::Severity severity, findings::Confidence confidence);

// The verdict rests on bytes the capture's snaplen cut off (README: Inputs): confidence one step
// lower (confirmed → probable; probable stays, it is the lowest) and `snaplen_cut: true` in the
// evidence.
void mark_snaplen_cut(findings::Finding& f);

// "client" / "server".
const char* role_name(tcp::Role r);

using DetectorFn = void (*)(const Subject&, const Context&, std::vector<findings::Finding>&);

struct DetectorInfo {
  const char* kind;
  DetectorFn fn;
};

// Every detector, in a fixed order.
const std::vector<DetectorInfo>& registry();

void detect_lost_final_ack(const Subject&, const Context&, std::vector<findings::Finding>&);
void detect_fin_retransmit(const Subject&, const Context&, std::vector<findings::Finding>&);
void detect_fin_seq_changed(const Subject&, const Context&, std::vector<findings::Finding>&);
void detect_rst_after_close(const Subject&, const Context&, std::vector<findings::Finding>&);
void detect_abortive_close(const Subject&, const Context&, std::vector<findings::Finding>&);
void detect_tuple_reuse(const Subject&, const Context&, std::vector<findings::Finding>&);
void detect_stale_segment(const Subject&, const Context&, std::vector<findings::Finding>&);

// The per-connection summary (detections.md §5), without finding ids.
findings::ConnectionSummary summarize(const Subject& s);

// What TIME_WAIT pressure needs of a connection when it starts (after its first segment).
ConnectionStart start_of(const tcp::Connection& conn);

// Where the capture was taken relative to the endpoints (detections.md §2, Vantage).
findings::Vantage estimate_vantage(const tcp::Connection& c, std::string& basis);

// Runs summary and every detector for one finished connection.
void analyze_connection(const tcp::Connection& c, const Context& ctx,
                        findings::ConnectionSummary& summary, std::vector<findings::Finding>& out);

}  // namespace lastack::detect
