// The streaming pipeline: inputs merged by time → decode → filter → flow table → (on
// finalisation) summary and detectors → report.
#include "lastack/pipeline/analyze.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <queue>

#include "lastack/capture/bpf_filter.h"
#include "lastack/capture/packet_source.h"
#include "lastack/decode/decoded_packet.h"
#include "lastack/detect/detector.h"
#include "lastack/detect/half_open_flood.h"
#include "lastack/detect/time_wait_pressure.h"
#include "lastack/flow/flow_table.h"
#include "summary_stage.h"

#ifndef LASTACK_VERSION
#define LASTACK_VERSION "0.0.0"
#endif

namespace lastack::pipeline {

const char* tool_version() {
  return LASTACK_VERSION;
}

namespace {

constexpr std::uint64_t kProgressEvery = 1 << 16;

flow::FlowSettings flow_settings(const Options& o) {
  flow::FlowSettings fs;
  fs.msl = o.settings.msl;
  fs.idle_timeout = o.idle_timeout;
  fs.memory_budget = o.memcap_bytes > kMemcapReserve ? o.memcap_bytes - kMemcapReserve : 1;
  // A connection's summary stays in the report, and sorting the report copies it twice.
  fs.caller_bytes_per_connection = 3 * sizeof(findings::ConnectionSummary);
  return fs;
}

// The report's account of what the flow table evicted (nothing when it evicted nothing).
std::optional<findings::Degradation> degradation(const flow::EvictionStats& e,
                                                 std::uint64_t memcap_bytes) {
  if (!e.any()) return std::nullopt;
  findings::Degradation d;
  d.memcap_bytes = memcap_bytes;
  d.evicted_half_open = e.half_open;
  d.evicted_live = e.live;
  d.evicted_tombstones = e.tombstones;
  for (const flow::EvictedTarget& t : e.by_target) d.targets.push_back({t.ip, t.port, t.half_open});
  d.other_targets = e.other_targets;
  d.first_half_open_frame = e.first_half_open_frame;
  d.first_half_open_ts = e.first_half_open_ts;
  return d;
}

struct OpenInput {
  std::unique_ptr<capture::PacketSource> source;
  std::size_t report_index = 0;
  capture::RawFrame frame;  // the next frame of this input (valid until its next read)
  bool has_frame = false;
};

class Run {
 public:
  Run(const Options& options, findings::Report& report)
      : options_(options),
        report_(report),
        table_(flow_settings(options),
               [this](std::unique_ptr<tcp::Connection>& c) { finalize(c); }) {
    ctx_.msl = options.settings.msl;
    ctx_.time_wait = options.settings.time_wait;
  }

  Status run() {
    if (options_.settings.filter) {
      auto compiled = capture::BpfFilter::compile(*options_.settings.filter);
      if (!compiled) return compiled.error();
      filter_ = std::move(compiled.value());
    }
    open_inputs();
    if (options_.observer != nullptr) options_.observer->on_start(report_);
    stage_.emplace(report_, ctx_, options_.observer, lateness());
    merge_and_process();
    table_.finish();
    stage_->finish();
    close_inputs();
    report_.connection_count = table_.connections_created();
    report_.counters.late_segments = table_.late_segments();
    report_.degraded = degradation(table_.evictions(), options_.memcap_bytes);
    analyze_time_wait_pressure();
    detect::analyze_half_open_flood(report_);
    report_.finalize();
    stage_->finish_observer();
    if (options_.observer != nullptr) options_.observer->on_finish(report_);
    if (options_.on_progress) options_.on_progress(progress_);
    return {};
  }

 private:
  void open_inputs() {
    for (std::uint32_t i = 0; i < options_.inputs.size(); ++i) {
      findings::InputReport in;
      in.path = options_.inputs[i];
      auto opened = capture::open_capture(in.path, i);
      if (!opened) {
        in.status = "error";
        in.error = opened.error().message;
        if (opened.error().has_offset) in.error_offset = opened.error().offset;
        report_.inputs.push_back(in);
        if (options_.on_input_problem) options_.on_input_problem(report_.inputs.back());
        continue;
      }
      OpenInput oi;
      oi.source = std::move(opened.value());
      oi.report_index = report_.inputs.size();
      // Progress counts bytes consumed by the reader; for a compressed input those are
      // decompressed bytes, which cannot be compared with the file size.
      if (oi.source->info().compression.empty())
        progress_.bytes_total += oi.source->info().size_bytes;
      report_.inputs.push_back(in);
      inputs_.push_back(std::move(oi));
    }
  }

  // k-way merge by capture time (ties: input order), so rotated or overlapping captures are
  // read as one (report-contract.md). Each source keeps its own current frame.
  void merge_and_process() {
    for (OpenInput& in : inputs_) advance(in);
    if (inputs_.size() == 1) {
      OpenInput& only = inputs_.front();
      while (only.has_frame && !cancelled()) {
        process(only);
        advance(only);
      }
      return;
    }
    auto later = [this](std::size_t a, std::size_t b) {
      const auto& fa = inputs_[a].frame;
      const auto& fb = inputs_[b].frame;
      return fa.ts != fb.ts ? fa.ts > fb.ts : a > b;
    };
    std::priority_queue<std::size_t, std::vector<std::size_t>, decltype(later)> heap(later);
    for (std::size_t i = 0; i < inputs_.size(); ++i) {
      if (inputs_[i].has_frame) heap.push(i);
    }
    while (!heap.empty() && !cancelled()) {
      const std::size_t i = heap.top();
      heap.pop();
      process(inputs_[i]);
      advance(inputs_[i]);
      if (inputs_[i].has_frame) heap.push(i);
    }
  }

  void advance(OpenInput& in) { in.has_frame = in.source->next(in.frame); }

  // One relaxed load per packet: cheap enough to answer Ctrl-C at once.
  [[nodiscard]] bool cancelled() const {
    return options_.cancel != nullptr && options_.cancel->load(std::memory_order_relaxed);
  }

  void process(OpenInput& in) {
    const capture::RawFrame& frame = in.frame;
    findings::InputReport& ir = report_.inputs[in.report_index];
    ++ir.packets;
    if (!ir.first_ts || frame.ts < *ir.first_ts) ir.first_ts = frame.ts;
    if (!ir.last_ts || frame.ts > *ir.last_ts) ir.last_ts = frame.ts;
    findings::Counters& n = report_.counters;
    ++n.packets;
    if ((++progress_.packets % kProgressEvery) == 0) report_progress(in);
    if (filter_ && !filter_->matches(frame)) {
      ++n.filtered_out;
      return;
    }
    decode::decode_frame(frame, pkt_);
    if (!count_outcome(pkt_)) return;
    ++n.tcp_packets;
    tcp::Dir dir;
    const tcp::FourTuple key = tcp::FourTuple::from_packet(pkt_.src, pkt_.tcp.src_port, pkt_.dst,
                                                           pkt_.tcp.dst_port, dir, pkt_.vlan_id);
    if (clock_.ns == INT64_MIN) stage_->began(frame.ts);
    clock_ = std::max(clock_, frame.ts);
    table_.on_segment(key, dir, tcp::make_segment(frame, pkt_), frame.interface_id);
    note_start(table_.started());
    note_start(table_.answered());
    table_.expire(frame.ts);
    stage_->hold(table_.oldest_half_open());
  }

  // Counts non-TCP and malformed outcomes; true for a decoded TCP segment.
  bool count_outcome(const decode::DecodedPacket& p) {
    findings::Counters& n = report_.counters;
    switch (p.outcome) {
      case decode::Outcome::tcp: return true;
      case decode::Outcome::not_ip: ++n.not_ip; return false;
      case decode::Outcome::not_tcp: ++n.not_tcp; return false;
      case decode::Outcome::fragment: ++n.fragments; return false;
      case decode::Outcome::unsupported_link: ++n.unsupported_link; return false;
      case decode::Outcome::malformed: {
        const auto idx = static_cast<std::size_t>(p.malformed);
        if (malformed_[idx]++ == 0)
          malformed_names_[idx] = std::string(decode::to_string(p.malformed));
        return false;
      }
    }
    return false;
  }

  void report_progress(const OpenInput& current) {
    if (!options_.on_progress) return;
    std::uint64_t bytes = 0;
    for (const OpenInput& in : inputs_) {
      if (in.source->info().compression.empty()) bytes += in.source->info().bytes_read;
    }
    progress_.bytes_read = bytes;
    progress_.input = static_cast<std::uint32_t>(current.report_index);
    options_.on_progress(progress_);
  }

  void close_inputs() {
    for (OpenInput& in : inputs_) {
      findings::InputReport& ir = report_.inputs[in.report_index];
      const capture::InputInfo& info = in.source->info();
      ir.format = capture::to_string(info.format);
      ir.compression = info.compression;
      ir.size_bytes = info.size_bytes;
      ir.interface_drops = info.interface_drops;
      for (std::uint32_t lt : info.link_types)
        ir.link_types.emplace_back(capture::linktype_name(lt));
      ir.status = capture::to_string(in.source->status());
      if (in.has_frame) {  // reading stopped by cancellation before this input's end
        ir.status = capture::to_string(capture::InputStatus::error);
        ir.error = "interrupted: not read from record " + std::to_string(in.frame.frame_no) + " on";
        ir.error_offset = in.frame.offset;
        if (options_.on_input_problem) options_.on_input_problem(ir);
        continue;
      }
      if (in.source->status() != capture::InputStatus::ok) {
        ir.error = in.source->error().message;
        if (in.source->error().has_offset) ir.error_offset = in.source->error().offset;
        if (options_.on_input_problem) options_.on_input_problem(ir);
      }
    }
    for (std::size_t i = 0; i < malformed_.size(); ++i) {
      if (malformed_[i] != 0) report_.counters.malformed[malformed_names_[i]] = malformed_[i];
    }
  }

  // TIME_WAIT pressure hears of a connection when it starts, except a half-open one (SYNs, and
  // RSTs, only): that one is told when it is answered, or else at its end. So the attempts of a
  // SYN flood that --memcap evicts cost it nothing (README "Memory cap"). Meanwhile the stage
  // holds the TIME_WAIT sweep at the oldest one's first packet (process()).
  void note_start(const tcp::Connection* c) {
    if (c != nullptr && !c->half_open()) stage_->started(*c, clock_);
  }

  // Judged on the summary stage's thread, which takes the object (and gives back one it is done
  // with for the table to recycle).
  void finalize(std::unique_ptr<tcp::Connection>& c) {
    report_.counters.duplicates += c->endpoint(tcp::Role::client).counters.duplicates +
                                   c->endpoint(tcp::Role::server).counters.duplicates;
    stage_->finished(c, clock_);
  }

  // Streamed over the run; the inputs give the capture's start and end.
  void analyze_time_wait_pressure() {
    report_.time_wait = stage_->time_wait().finish(report_.inputs, report_.findings);
  }

  // How late (capture time) a connection with something to add to TIME_WAIT pressure after its
  // start can be finalised after its TIME_WAIT began (or its last packet): the flow table's
  // longest wait after the last packet of a closed connection (settle, 2MSL), its one-second
  // timer granularity, and 129 s for what comes before that last packet: re-sent FINs after
  // TIME_WAIT began, or the SYN retries of an attempt whose next incarnation took its place
  // before it was answered (Linux's default tcp_syn_retries=6 span 127 s). A connection left
  // open is finalised only after the idle timeout, but adds no event then (its port counts as
  // taken to the capture end), and a half-open one the stage holds the sweep for. A later one is
  // applied late and counted (TimeWaitAccumulator). This window is what the TIME_WAIT analysis
  // holds in memory, so it is not padded further.
  [[nodiscard]] Duration lateness() const {
    const flow::FlowSettings defaults;
    const Duration longest =
        std::max({defaults.settle, options_.settings.msl * 2, options_.settings.time_wait});
    return longest + Duration::from_s(130);
  }

  const Options& options_;
  findings::Report& report_;
  detect::Context ctx_;
  flow::FlowTable table_;
  std::optional<detail::SummaryStage> stage_;
  Timestamp clock_{INT64_MIN};  // the latest capture time seen (timestamps can go backwards)
  std::unique_ptr<capture::BpfFilter> filter_;
  std::vector<OpenInput> inputs_;
  decode::DecodedPacket pkt_;
  Progress progress_;
  std::array<std::uint64_t, static_cast<std::size_t>(decode::Malformed::count_)> malformed_{};
  std::array<std::string, static_cast<std::size_t>(decode::Malformed::count_)> malformed_names_;
};

}  // namespace

Result<findings::Report> analyze(const Options& options) {
  findings::Report report;
  report.tool_version = tool_version();
  report.store = std::make_shared<findings::FindingStore>(options.findings_memory);
  report.settings = options.settings;
  Run run(options, report);
  Status st = run.run();
  if (!st) return st.error();
  return report;
}

}  // namespace lastack::pipeline
