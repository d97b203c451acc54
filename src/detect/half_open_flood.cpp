#include "lastack/detect/half_open_flood.h"

#include <algorithm>
#include <string>

namespace lastack::detect {

namespace {

namespace f = findings;

constexpr std::size_t kTopTargets = 5;  // servers named in the message and evidence

std::string server_text(const f::Degradation::Target& t) {
  return format_endpoint(t.ip, t.port);
}

// "10.0.0.1:80 (600000), 10.0.0.2:443 (300000)" for the most targeted servers.
std::string top_targets_text(const f::Degradation& d) {
  std::string text;
  const std::size_t n = std::min(d.targets.size(), kTopTargets);
  for (std::size_t i = 0; i < n; ++i) {
    if (i > 0) text += ", ";
    text += server_text(d.targets[i]) + " (" + std::to_string(d.targets[i].half_open) + ")";
  }
  return text;
}

std::string message_of(const f::Degradation& d) {
  const std::size_t servers = d.targets.size();
  std::string m =
      std::to_string(d.evicted_half_open) +
      " half-open connection attempts (SYN without a completed handshake) did not fit "
      "the memory cap and were counted per server instead of analysed; most targeted: " +
      top_targets_text(d);
  if (servers > kTopTargets) m += " and " + std::to_string(servers - kTopTargets) + " more servers";
  if (d.other_targets > 0)
    m += ", plus " + std::to_string(d.other_targets) + " to uncounted servers";
  return m + ". A SYN flood or a scan: see RFC 4987 (SYN cookies, a larger backlog).";
}

}  // namespace

std::optional<f::Finding> detect_half_open_flood(const f::Degradation& d) {
  if (d.evicted_half_open == 0 || d.targets.empty()) return std::nullopt;
  f::Finding fd;
  fd.kind = "half_open_flood";
  fd.cause = "evicted_half_open";
  fd.severity = f::Severity::warning;
  fd.confidence = f::Confidence::confirmed;
  fd.connection_id = 0;
  fd.subject = "server " + server_text(d.targets.front());
  fd.ts = d.first_half_open_ts;
  if (d.first_half_open_frame) fd.frames = {*d.first_half_open_frame};
  fd.message = message_of(d);
  fd.evidence.emplace_back("evicted_half_open", static_cast<std::int64_t>(d.evicted_half_open));
  fd.evidence.emplace_back("evicted_live", static_cast<std::int64_t>(d.evicted_live));
  fd.evidence.emplace_back("memcap_bytes", static_cast<std::int64_t>(d.memcap_bytes));
  fd.evidence.emplace_back("servers", static_cast<std::int64_t>(d.targets.size()));
  fd.evidence.emplace_back("top_target", server_text(d.targets.front()));
  fd.evidence.emplace_back("top_target_half_open",
                           static_cast<std::int64_t>(d.targets.front().half_open));
  fd.evidence.emplace_back("top_targets", top_targets_text(d));
  fd.evidence.emplace_back("other_targets_half_open", static_cast<std::int64_t>(d.other_targets));
  return fd;
}

void analyze_half_open_flood(f::Report& report) {
  if (!report.degraded) return;
  if (auto fd = detect_half_open_flood(*report.degraded)) report.findings.push_back(std::move(*fd));
}

}  // namespace lastack::detect
