// Wires the layers: inputs → decode → flow table → detectors → report. Streaming: connections
// are finalised as capture time passes, so memory follows concurrent connections, not file size.
// Up to three threads: one reads, decodes and tracks; one judges the finalised connections
// (detectors, report, TIME_WAIT pressure); one hands their summaries to the observer (the SQLite
// writer), when there is one.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "lastack/core/result.h"
#include "lastack/findings/report.h"

namespace lastack::pipeline {

struct Progress {
  std::uint64_t packets = 0;
  std::uint64_t bytes_read = 0;   // over all inputs
  std::uint64_t bytes_total = 0;  // sum of known input sizes (0 when unknown, e.g. stdin)
  std::uint32_t input = 0;        // index of the input being read
};

// Receives the run as it goes, so that reports can be written without keeping every
// connection: on_start and on_finish on the calling thread, on_connections on a pipeline thread
// of its own (never two calls at once), in a deterministic order (the order connections are
// finalised).
class RunObserver {
 public:
  RunObserver() = default;
  RunObserver(const RunObserver&) = delete;
  RunObserver& operator=(const RunObserver&) = delete;
  virtual ~RunObserver() = default;
  // The inputs are open: version, settings and one entry per input (path; an input that could
  // not be opened already has status "error").
  virtual void on_start(const findings::Report& head) = 0;
  // Connections were finalised (a batch of up to a few hundred, in order); the summaries live
  // until the call returns.
  virtual void on_connections(std::span<const findings::JudgedConnection> batch) = 0;
  // Every connection has been shown; called on the same thread as on_connections, while the
  // run still finishes its analysis (TIME_WAIT pressure's last sweep): work done here overlaps
  // it instead of following it.
  virtual void on_connections_end() {}
  // The report is complete (findings numbered, TIME_WAIT pressure computed).
  virtual void on_finish(const findings::Report& report) = 0;
};
// --memcap (README "Memory cap"): the whole process is to stay under it. The flow table gets
// the cap less kMemcapReserve, a fixed allowance for everything else: the program and its
// libraries, reader buffers, the SQLite page cache, the report. A run on a tiny capture
// (samples/real/lost_final_ack.client.pcap with --json and --db) peaks at 7 MB RSS; the
// reserve leaves room for reader buffers and a report of some thousands of connections.
inline constexpr std::uint64_t kDefaultMemcap = std::uint64_t{1} << 30;
inline constexpr std::uint64_t kMemcapReserve = std::uint64_t{24} << 20;
inline constexpr std::uint64_t kMinMemcap = std::uint64_t{32} << 20;
inline constexpr std::uint64_t kDefaultFindingsMemory = std::uint64_t{4} << 20;

struct Options {
  std::vector<std::string> inputs;  // paths; "-" = standard input
  findings::Settings settings;
  Duration idle_timeout = Duration::from_s(300);  // an idle connection is finalised after this
  std::uint64_t memcap_bytes = kDefaultMemcap;    // >= kMinMemcap
  // Called every few tens of thousands of packets (never per packet) and once at the end.
  std::function<void(const Progress&)> on_progress;
  // Called when an input ends in a fault or is truncated (the run goes on with the others).
  std::function<void(const findings::InputReport&)> on_input_problem;
  // Cancellation (SIGINT): checked between packets. Once set, reading stops, what was read is
  // analysed to the end (connections finalised, detectors run), and every input not read to
  // its end gets status "error" with the error "interrupted" and the offset of its first
  // unread record.
  const std::atomic<bool>* cancel = nullptr;
  // Sees every connection (e.g. the SQLite writer); the report itself keeps only the connections
  // it lists (with findings, or all with settings.all_connections).
  RunObserver* observer = nullptr;
  // Findings are kept serialised (findings::FindingStore): this many bytes of them in memory,
  // the rest in an unlinked temporary file (in $TMPDIR, else /tmp), so that the run stays flat
  // however many there are. A run whose findings fit gets them back as report.findings.
  std::uint64_t findings_memory = kDefaultFindingsMemory;
};

// A usage error (bad filter) is the only failure: input faults are recorded in the report's
// inputs and analysis continues with what was read.
Result<findings::Report> analyze(const Options& options);

const char* tool_version();

}  // namespace lastack::pipeline
