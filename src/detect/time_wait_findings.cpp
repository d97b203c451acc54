// time_wait_pressure findings: what a computed pressure section says (see the header for the
// causes and thresholds). Moved unchanged from the batch sweep; only fed differently.
#include <cmath>
#include <cstdio>
#include <string>

#include "lastack/detect/time_wait_pressure.h"

namespace lastack::detect {

namespace {

namespace f = findings;
using f::Side;

// Offsets in the text are from the capture start.
struct Frame {
  Timestamp capture_start;
};

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string rate_text(double v) {
  return fixed(v, v < 10 ? 2 : (v < 100 ? 1 : 0));
}

std::string offset_text(const f::PeakAt& p, const Frame& fr) {
  if (!p.ts) return "";
  return format_rfc3339(*p.ts) + " (+" + fixed((*p.ts - fr.capture_start).seconds(), 3) +
         " s into the capture)";
}

double offset_s(const f::PeakAt& p, const Frame& fr) {
  return p.ts ? (*p.ts - fr.capture_start).seconds() : 0.0;
}

std::string seconds_str(Duration d) {
  const double s = d.seconds();
  return s == std::floor(s) ? fixed(s, 0) + " s" : fixed(s, 3) + " s";
}

constexpr const char* kAvoid =
    "Avoid net.ipv4.tcp_tw_recycle (removed in Linux 4.12; it broke clients behind NAT) and "
    "SO_LINGER 0 (RST instead of FIN: unsent and unread data are lost).";

constexpr const char* kClientRemedies =
    "Remedies: reuse connections (HTTP keep-alive, a connection pool); net.ipv4.tcp_tw_reuse=1 "
    "lets new outgoing connections take over TIME_WAIT ports after 1 s when TCP timestamps are on; "
    "widen net.ipv4.ip_local_port_range or spread over more source addresses; or have the server "
    "close first. ";

f::Finding pressure_finding(std::string cause, f::Severity sev, std::string subject,
                            const f::PeakAt& at_peak) {
  f::Finding fd;
  fd.kind = "time_wait_pressure";
  fd.cause = std::move(cause);
  fd.severity = sev;
  fd.confidence = f::Confidence::confirmed;  // observed counts: the real ones can only be higher
  fd.connection_id = 0;
  fd.subject = std::move(subject);
  if (at_peak.ts) fd.ts = *at_peak.ts;
  if (at_peak.frame.frame_no != 0) fd.frames = {at_peak.frame};
  return fd;
}

std::string range_text(const f::TimeWaitPressure& tw) {
  return std::to_string(tw.port_lo) + "-" + std::to_string(tw.port_hi);
}

void pair_findings(f::TimeWaitPair& p, const f::TimeWaitPressure& tw, const Frame& fr,
                   std::vector<f::Finding>& out) {
  const std::uint64_t range = tw.range_size();
  const std::string subject =
      to_string(p.client_ip) + " -> " + format_endpoint(p.server_ip, p.server_port);
  const double share = range ? static_cast<double>(p.peak.value) / static_cast<double>(range) : 0;
  const std::string lb = p.lower_bound ? " (a lower bound: what began before the capture is not "
                                         "seen)"
                                       : "";
  auto add_common = [&](f::Finding& fd) {
    fd.evidence.emplace_back("client_ip", to_string(p.client_ip));
    fd.evidence.emplace_back("server", format_endpoint(p.server_ip, p.server_port));
    fd.evidence.emplace_back("connections", static_cast<std::int64_t>(p.connections));
    fd.evidence.emplace_back("peak_ports_in_use", static_cast<std::int64_t>(p.peak.value));
    fd.evidence.emplace_back("time_wait_at_peak", static_cast<std::int64_t>(p.time_wait_at_peak));
    fd.evidence.emplace_back("port_range", range_text(tw));
    fd.evidence.emplace_back("range_size", static_cast<std::int64_t>(range));
    fd.evidence.emplace_back("range_share", share);
    fd.evidence.emplace_back("peak_offset_s", offset_s(p.peak, fr));
    fd.evidence.emplace_back("peak_rate_per_s", static_cast<std::int64_t>(p.peak_rate.value));
    if (auto s = tw.sustainable_rate()) fd.evidence.emplace_back("sustainable_rate_per_s", *s);
    fd.evidence.emplace_back("time_wait_s", tw.time_wait.seconds());
    fd.evidence.emplace_back("lower_bound", p.lower_bound);
  };
  if (range != 0 && share >= 0.5) {
    const f::Severity sev = share >= 0.9 ? f::Severity::error : f::Severity::warning;
    f::Finding fd = pressure_finding("port_exhaustion_risk", sev, subject, p.peak);
    fd.message = to_string(p.client_ip) + " had " + std::to_string(p.peak.value) + " of the " +
                 std::to_string(range) + " ports of its range " + range_text(tw) + " (" +
                 fixed(share * 100, 0) + "%) tied up towards " +
                 format_endpoint(p.server_ip, p.server_port) + " at once" + lb + ", at " +
                 offset_text(p.peak, fr) + ": " +
                 std::to_string(p.peak.value - p.time_wait_at_peak) + " open, " +
                 std::to_string(p.time_wait_at_peak) + " in its own TIME_WAIT (" +
                 seconds_str(tw.time_wait) +
                 "). When all are taken, connect() fails with EADDRNOTAVAIL (\"Cannot assign "
                 "requested address\"). " +
                 kClientRemedies + kAvoid;
    add_common(fd);
    out.push_back(std::move(fd));
    p.under_pressure = true;
  }
  const std::optional<double> sustainable = tw.sustainable_rate();
  if (sustainable && static_cast<double>(p.peak_rate.value) > *sustainable) {
    const f::Severity sev = share >= 0.5 ? f::Severity::warning : f::Severity::info;
    f::Finding fd = pressure_finding("rate_above_sustainable", sev, subject, p.peak_rate);
    fd.message = to_string(p.client_ip) + " opened " + std::to_string(p.peak_rate.value) +
                 " new connections to " + format_endpoint(p.server_ip, p.server_port) +
                 " within one second, reached at " + offset_text(p.peak_rate, fr) + ", above the " +
                 rate_text(*sustainable) + "/s that the " + std::to_string(range) + "-port range " +
                 range_text(tw) + " sustains with a " + seconds_str(tw.time_wait) +
                 " TIME_WAIT (range / TIME_WAIT); at most " + std::to_string(p.peak.value) +
                 " ports (" + fixed(share * 100, 0) + "%) were in use at once" + lb +
                 ". Kept up for one TIME_WAIT, it uses up the range and connect() fails with "
                 "EADDRNOTAVAIL. " +
                 kClientRemedies + kAvoid;
    add_common(fd);
    out.push_back(std::move(fd));
    p.under_pressure = true;
  }
}

void holder_findings(f::TimeWaitHolder& h, const f::TimeWaitPressure& tw, const Frame& fr,
                     std::vector<f::Finding>& out) {
  if (h.role != Side::server || tw.server_peak_warn == 0) return;
  if (h.closed == 0 || h.active_closes * 2 <= h.closed) return;  // not "most"
  if (h.peak.value < tw.server_peak_warn) return;
  f::Finding fd = pressure_finding("server_holds_time_wait", f::Severity::warning,
                                   "server " + to_string(h.ip), h.peak);
  fd.message =
      "server " + to_string(h.ip) + " closed first " + std::to_string(h.active_closes) +
      " of its " + std::to_string(h.closed) + " closed connections and held " +
      std::to_string(h.peak.value) + " TIME_WAIT entries at once" +
      (h.lower_bound ? " (a lower bound: what began before the capture is not seen)" : "") +
      ", at " + offset_text(h.peak, fr) + "; each lasts " + seconds_str(tw.time_wait) +
      " (threshold " + std::to_string(tw.server_peak_warn) +
      ", --server-tw-peak). Remedies: let the clients close first (HTTP/1.1 keep-alive, "
      "clients that close when done) or reuse connections; past net.ipv4.tcp_max_tw_buckets "
      "the kernel silently skips TIME_WAIT (\"time wait bucket table overflow\"). "
      "net.ipv4.tcp_tw_reuse does not help here (outgoing connections only). " +
      kAvoid;
  fd.evidence.emplace_back("ip", to_string(h.ip));
  fd.evidence.emplace_back("role", "server");
  fd.evidence.emplace_back("connections", static_cast<std::int64_t>(h.connections));
  fd.evidence.emplace_back("closed", static_cast<std::int64_t>(h.closed));
  fd.evidence.emplace_back("active_closes", static_cast<std::int64_t>(h.active_closes));
  fd.evidence.emplace_back("time_wait_entries", static_cast<std::int64_t>(h.entries));
  fd.evidence.emplace_back("peak_time_wait", static_cast<std::int64_t>(h.peak.value));
  fd.evidence.emplace_back("peak_offset_s", offset_s(h.peak, fr));
  fd.evidence.emplace_back("threshold", static_cast<std::int64_t>(tw.server_peak_warn));
  fd.evidence.emplace_back("time_wait_s", tw.time_wait.seconds());
  fd.evidence.emplace_back("lower_bound", h.lower_bound);
  out.push_back(std::move(fd));
  h.under_pressure = true;
}

}  // namespace

void append_time_wait_findings(f::TimeWaitPressure& tw, std::vector<f::Finding>& out) {
  const Frame fr{tw.capture_start.value_or(Timestamp{})};
  for (f::TimeWaitPair& p : tw.pairs) pair_findings(p, tw, fr, out);
  for (f::TimeWaitHolder& h : tw.holders) holder_findings(h, tw, fr, out);
}

}  // namespace lastack::detect
