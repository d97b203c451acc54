// The whole result of one run: settings, inputs, counters, findings and connection summaries.
// finalize() puts findings in canonical order (time, connection, kind, cause, frames) and
// numbers them, so the same input always gives the same report.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lastack/core/frame_ref.h"
#include "lastack/core/ip_address.h"
#include "lastack/core/timestamp.h"
#include "lastack/findings/connection_summary.h"
#include "lastack/findings/finding.h"
#include "lastack/findings/finding_store.h"
#include "lastack/findings/time_wait.h"

namespace lastack::findings {

struct Settings {
  Duration msl = Duration::from_s(30);
  Duration time_wait = Duration::from_s(60);
  std::optional<std::string> filter;
  std::optional<Severity> fail_on = Severity::error;  // nullopt = never
  bool all_connections = false;                       // --connections all
  // TIME_WAIT pressure (--port-range, --server-tw-peak): the client's ephemeral port range and
  // the TIME_WAIT count at which a server that closes first is warned about.
  std::uint16_t port_range_lo = 32768;
  std::uint16_t port_range_hi = 60999;
  std::uint64_t server_tw_peak = 1000;
};

struct InputReport {
  std::string path;
  std::string format;       // "pcap" | "pcapng"
  std::string compression;  // "" | "gzip" | "zstd"
  std::vector<std::string> link_types;
  std::uint64_t packets = 0;
  std::uint64_t size_bytes = 0;
  std::optional<Timestamp> first_ts;
  std::optional<Timestamp> last_ts;
  std::string status = "ok";  // "ok" | "truncated" | "error"
  std::optional<std::string> error;
  std::optional<std::uint64_t> error_offset;
  std::uint64_t interface_drops = 0;
};

struct Counters {
  std::uint64_t packets = 0;
  std::uint64_t tcp_packets = 0;
  std::uint64_t not_ip = 0;
  std::uint64_t not_tcp = 0;
  std::uint64_t fragments = 0;
  std::uint64_t unsupported_link = 0;
  std::uint64_t duplicates = 0;
  // Segments of an incarnation already finalised (in its tombstone's sequence space), e.g. a FIN
  // re-sent after a settled close went quiet: counted, not analysed (README "Limitations").
  std::uint64_t late_segments = 0;
  std::uint64_t filtered_out = 0;
  std::map<std::string, std::uint64_t> malformed;  // by reason
};

// What the analysis gave up to stay within --memcap (README "Memory cap"): half-open attempts
// dropped unanalysed, counted per server; connections finalised early; tombstones dropped.
struct Degradation {
  struct Target {
    IpAddress ip;
    std::uint16_t port = 0;
    std::uint64_t half_open = 0;
  };
  std::uint64_t memcap_bytes = 0;
  std::uint64_t evicted_half_open = 0;
  std::uint64_t evicted_live = 0;
  std::uint64_t evicted_tombstones = 0;
  std::vector<Target> targets;      // most evicted first (ties: address, port); bounded
  std::uint64_t other_targets = 0;  // attempts to servers beyond the counted ones
  std::optional<FrameRef> first_half_open_frame;  // the first evicted attempt's SYN
  Timestamp first_half_open_ts;
};

struct Report {
  std::string tool_version;
  Settings settings;
  std::vector<InputReport> inputs;
  Counters counters;
  std::uint64_t connection_count = 0;
  std::vector<Finding> findings;
  // The pipeline's findings, serialised (FindingStore). finalize() turns a store that never went
  // to its file back into `findings`; a larger one stays, and then holds every finding (in
  // canonical order after finalize, `findings` left empty). Read findings through
  // FindingReader, which serves either.
  std::shared_ptr<FindingStore> store;
  std::vector<ConnectionSummary> connections;  // all of them, in id order
  // TIME_WAIT pressure over the capture; set by the pipeline (unset in hand-built reports, and
  // then absent from the JSON report and the database).
  std::optional<TimeWaitPressure> time_wait;
  // Set by the pipeline only when something was evicted (absent otherwise).
  std::optional<Degradation> degraded;

  // Canonical order and ids for findings; resolves links; fills each connection's finding_ids.
  void finalize();
  [[nodiscard]] std::size_t finding_count() const {
    return findings.size() + (store ? store->size() : 0);
  }
  [[nodiscard]] std::map<std::string, std::uint64_t> findings_by_kind() const;
  [[nodiscard]] std::map<std::string, std::uint64_t> findings_by_severity() const;
  // True when some finding is at or above settings.fail_on.
  [[nodiscard]] bool fails() const;
  // Connections the report lists: those with findings, or all with --connections all.
  [[nodiscard]] std::vector<const ConnectionSummary*> listed_connections() const;

 private:
  void finalize_stored();
};

// The findings of a report by position (the canonical order once finalized), from memory or
// from its store. One per thread; a finding is valid until the next call.
class FindingReader {
 public:
  explicit FindingReader(const Report& report) : report_(report) {}
  [[nodiscard]] std::size_t size() const { return report_.finding_count(); }
  const Finding& operator[](std::size_t i) {
    if (report_.store) return report_.store->read(i, scratch_, buf_);
    return report_.findings[i];
  }

 private:
  const Report& report_;
  Finding scratch_;
  std::string buf_;
};

}  // namespace lastack::findings
