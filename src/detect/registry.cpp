#include "lastack/detect/detector.h"

namespace lastack::detect {

const char* role_name(tcp::Role r) {
  return r == tcp::Role::client ? "client" : "server";
}

findings::Finding make_finding(const Subject& s, std::string kind, std::string cause,
                               findings::Severity severity, findings::Confidence confidence) {
  findings::Finding f;
  f.kind = std::move(kind);
  f.cause = std::move(cause);
  f.severity = severity;
  f.confidence = confidence;
  f.connection_id = s.conn.id();
  f.ts = s.conn.first_ts();
  return f;
}

void mark_snaplen_cut(findings::Finding& f) {
  f.confidence = findings::Confidence::probable;
  f.evidence.emplace_back("snaplen_cut", true);
}

const std::vector<DetectorInfo>& registry() {
  static const std::vector<DetectorInfo> detectors = {
      // clang-format off
      {"lost_final_ack", detect_lost_final_ack},
      {"fin_retransmit", detect_fin_retransmit},
      {"fin_seq_changed", detect_fin_seq_changed},
      {"rst_after_close", detect_rst_after_close},
      {"abortive_close", detect_abortive_close},
      {"tuple_reuse", detect_tuple_reuse},
      {"stale_segment", detect_stale_segment},
      // clang-format on
  };
  return detectors;
}

void analyze_connection(const tcp::Connection& c, const Context& ctx,
                        findings::ConnectionSummary& summary, std::vector<findings::Finding>& out) {
  Subject subject{c, findings::Vantage::unknown, {}};
  subject.vantage = estimate_vantage(c, subject.vantage_basis);
  summary = summarize(subject);
  for (const DetectorInfo& d : registry()) d.fn(subject, ctx, out);
}

}  // namespace lastack::detect
