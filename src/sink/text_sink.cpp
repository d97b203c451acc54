// The terminal summary: short, greppable, one finding per line, in the report's canonical order
// (so `lastack analyze x.pcap | grep lost_final_ack` works the way a tcpdump user expects).
#include <cstdio>
#include <optional>
#include <string>
#include <unordered_map>

#include "lastack/core/ip_address.h"
#include "lastack/core/timestamp.h"
#include "lastack/sink/sinks.h"

namespace lastack::sink {

namespace f = findings;

namespace {

void put_line(std::FILE* out, const std::string& line) {
  std::fputs(line.c_str(), out);
  std::fputc('\n', out);
}

std::string input_line(const f::InputReport& in) {
  std::string line = "input " + in.path + ": " + (in.format.empty() ? "?" : in.format);
  if (!in.compression.empty()) line += "+" + in.compression;
  line += ", " + std::to_string(in.packets) + " packets";
  if (in.status != "ok") {
    line += " [" + in.status;
    if (in.error_offset) line += " at byte " + std::to_string(*in.error_offset);
    if (in.error) line += ": " + *in.error;
    line += "]";
  }
  return line;
}

std::string counts_line(const f::Report& r) {
  std::string line = "packets " + std::to_string(r.counters.packets) + ", tcp " +
                     std::to_string(r.counters.tcp_packets) + ", connections " +
                     std::to_string(r.connection_count);
  if (r.counters.late_segments != 0) {
    line += ", late segments " + std::to_string(r.counters.late_segments) + " (not analysed)";
  }
  return line;
}

// "findings 3: error 1, warning 2" in rank order, most severe first.
std::string severity_line(const f::Report& r) {
  const auto counts = r.findings_by_severity();
  std::string line = "findings " + std::to_string(r.finding_count());
  const char* sep = ": ";
  for (f::Severity s :
       {f::Severity::critical, f::Severity::error, f::Severity::warning, f::Severity::info}) {
    const auto it = counts.find(std::string(f::to_string(s)));
    if (it == counts.end()) continue;
    line += sep + it->first + " " + std::to_string(it->second);
    sep = ", ";
  }
  return line;
}

// Frame numbers as Wireshark shows them; "input:frame" only when a finding spans inputs.
std::string frames_text(const std::vector<f::FrameRef>& frames) {
  bool spans = false;
  for (const f::FrameRef& fr : frames) spans = spans || fr.input != frames.front().input;
  std::string text;
  for (const f::FrameRef& fr : frames) {
    if (!text.empty()) text += ",";
    if (spans) text += std::to_string(fr.input) + ":";
    text += std::to_string(fr.frame_no);
  }
  return text.empty() ? "-" : text;
}

using ConnectionIndex = std::unordered_map<std::uint64_t, const f::ConnectionSummary*>;

std::string finding_line(const ConnectionIndex& index, const f::Finding& fd) {
  if (fd.connection_id == 0) {  // about no single connection (time_wait_pressure)
    return format_rfc3339(fd.ts) + " " + (fd.subject.empty() ? "-" : fd.subject) + " " + fd.kind +
           "/" + fd.cause + " " + std::string(f::to_string(fd.severity)) + " frames " +
           frames_text(fd.frames) + ": " + fd.message;
  }
  const auto it = index.find(fd.connection_id);
  const f::ConnectionSummary* c = it == index.end() ? nullptr : it->second;
  const std::string client = c ? format_endpoint(c->client_ip, c->client_port) : "?";
  const std::string server = c ? format_endpoint(c->server_ip, c->server_port) : "?";
  const std::string incarnation = c ? std::to_string(c->incarnation) : "?";
  return format_rfc3339(fd.ts) + " " + client + " -> " + server + " #" + incarnation + " " +
         fd.kind + "/" + fd.cause + " " + std::string(f::to_string(fd.severity)) + " frames " +
         frames_text(fd.frames) + ": " + fd.message;
}

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string offset_text(const std::optional<Timestamp>& ts, const f::TimeWaitPressure& tw) {
  if (!ts || !tw.capture_start) return "?";
  std::string text = "+";  // appended, not "+" + ...: GCC 12 -O3 warns falsely on that
  text += fixed((*ts - *tw.capture_start).seconds(), 3);
  text += " s";
  return text;
}

// One line per client -> server pair and per holder that a time_wait_pressure finding names.
void time_wait_lines(const f::TimeWaitPressure& tw, std::FILE* out) {
  const std::uint64_t range = tw.range_size();
  const auto sustainable = tw.sustainable_rate();
  for (const f::TimeWaitPair& p : tw.pairs) {
    if (!p.under_pressure) continue;
    const double share =
        range ? 100.0 * static_cast<double>(p.peak.value) / static_cast<double>(range) : 0.0;
    std::string line = "time_wait " + to_string(p.client_ip) + " -> " +
                       format_endpoint(p.server_ip, p.server_port) + ": ports in use peak " +
                       std::to_string(p.peak.value) + "/" + std::to_string(range) + " (" +
                       fixed(share, 0) + "%, " + std::to_string(p.time_wait_at_peak) +
                       " in TIME_WAIT) at " + offset_text(p.peak.ts, tw) + "; new connections " +
                       std::to_string(p.peak_rate.value) + "/s at " +
                       offset_text(p.peak_rate.ts, tw);
    if (sustainable) line += " (sustainable " + fixed(*sustainable, 2) + "/s)";
    if (p.lower_bound) line += "; lower bound";
    put_line(out, line);
  }
  for (const f::TimeWaitHolder& h : tw.holders) {
    if (!h.under_pressure) continue;
    std::string line = "time_wait " + std::string(f::to_string(h.role)) + " " + to_string(h.ip) +
                       ": TIME_WAIT peak " + std::to_string(h.peak.value) + " at " +
                       offset_text(h.peak.ts, tw) + ", closed first " +
                       std::to_string(h.active_closes) + " of " + std::to_string(h.closed);
    if (h.lower_bound) line += "; lower bound";
    put_line(out, line);
  }
}

}  // namespace

// "degraded: ..." when --memcap made the flow table evict (README "Memory cap").
std::string degraded_line(const f::Degradation& d) {
  return "degraded: memory cap " + std::to_string(d.memcap_bytes >> 20) +
         " MiB reached: " + std::to_string(d.evicted_half_open) +
         " half-open attempts counted, not analysed; " + std::to_string(d.evicted_live) +
         " connections finalised early";
}

void write_text_summary(const findings::Report& report, std::FILE* out) {
  for (const f::InputReport& in : report.inputs) put_line(out, input_line(in));
  put_line(out, counts_line(report));
  if (report.degraded) put_line(out, degraded_line(*report.degraded));
  if (report.time_wait && report.time_wait->late_events != 0) {
    put_line(out, "time_wait: " + std::to_string(report.time_wait->late_events) +
                      " events came after the streaming window and were applied at its edge "
                      "(counts around them approximate)");
  }
  if (report.finding_count() == 0) {
    put_line(out, "no findings");
    return;
  }
  put_line(out, severity_line(report));
  for (const auto& [kind, n] : report.findings_by_kind()) {
    put_line(out, "  " + kind + " " + std::to_string(n));
  }
  ConnectionIndex index;
  for (const f::ConnectionSummary& c : report.connections) index.emplace(c.id, &c);
  f::FindingReader findings(report);
  for (std::size_t i = 0; i < findings.size(); ++i) put_line(out, finding_line(index, findings[i]));
  if (report.time_wait) time_wait_lines(*report.time_wait, out);
}

}  // namespace lastack::sink
