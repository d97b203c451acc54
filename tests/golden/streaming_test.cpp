// The streaming pipeline: every connection reaches the observer (the SQLite writer) once, in a
// deterministic order, while the report keeps only the connections it lists.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "lastack/pipeline/analyze.h"
#include "lastack/sink/sinks.h"
#include "lastack/synth/capture_writer.h"
#include "lastack/synth/conversation.h"
#include "support/golden.h"
#include "support/hostile.h"
#include "support/scripted.h"
#include "support/tw_reference.h"

namespace f = lastack::findings;

namespace {

class Recorder final : public lastack::pipeline::RunObserver {
 public:
  void on_start(const f::Report& head) override { inputs_at_start = head.inputs.size(); }
  void on_connections(std::span<const f::JudgedConnection> batch) override {
    if (ended) ++after_end;
    if (batch.empty()) ++empty_batches;
    for (const f::JudgedConnection& c : batch) {
      ids.push_back(c.summary->id);
      if (c.has_findings) flagged.push_back(c.summary->id);
    }
  }
  void on_connections_end() override {
    if (ended) ++after_end;
    ended = true;
    ids_at_end = ids.size();
  }
  void on_finish(const f::Report& report) override {
    finished = true;
    findings_at_finish = report.findings.size();
  }

  bool ended = false;         // on_connections_end() came (before on_finish: ids_at_end)
  std::size_t after_end = 0;  // calls after it that should not have come
  std::size_t empty_batches = 0;
  std::size_t ids_at_end = 0;
  std::size_t inputs_at_start = 0;
  std::vector<std::uint64_t> ids;
  std::vector<std::uint64_t> flagged;
  bool finished = false;
  std::size_t findings_at_finish = 0;
};

f::Report analyze(const std::vector<std::string>& samples, Recorder& rec, bool all = false) {
  lastack::pipeline::Options o;
  for (const std::string& s : samples) o.inputs.push_back(lastack::test::source_path(s));
  o.settings.all_connections = all;
  o.observer = &rec;
  auto r = lastack::pipeline::analyze(o);
  REQUIRE(r.ok());
  return std::move(r.value());
}

}  // namespace

TEST_CASE("streaming: the observer sees every connection once, the report lists the flagged",
          "[pipeline][streaming]") {
  const std::vector<std::string> samples = {"samples/real/lost_final_ack.client.pcap",
                                            "samples/real/server_close_many.server.pcap"};
  Recorder rec;
  const f::Report r = analyze(samples, rec);
  CHECK(rec.inputs_at_start == 2);
  CHECK(rec.finished);
  CHECK(rec.ended);  // once, after the last connection
  CHECK(rec.after_end == 0);
  CHECK(rec.empty_batches == 0);
  CHECK(rec.ids_at_end == rec.ids.size());
  CHECK(rec.findings_at_finish == r.findings.size());
  REQUIRE(rec.ids.size() == r.connection_count);
  std::vector<std::uint64_t> sorted = rec.ids;
  std::sort(sorted.begin(), sorted.end());
  for (std::size_t i = 0; i < sorted.size(); ++i) CHECK(sorted[i] == i + 1);

  // The report holds exactly the connections with findings of their own.
  std::set<std::uint64_t> with_findings;
  for (const f::Finding& fd : r.findings) {
    if (fd.connection_id != 0) with_findings.insert(fd.connection_id);
  }
  CHECK(std::set<std::uint64_t>(rec.flagged.begin(), rec.flagged.end()) == with_findings);
  REQUIRE(r.connections.size() == with_findings.size());
  REQUIRE_FALSE(r.connections.empty());
  CHECK(r.connections.size() < r.connection_count);
  for (const f::ConnectionSummary& c : r.connections) CHECK(with_findings.count(c.id) == 1);

  // Deterministic: the same order again, and --connections all keeps every one.
  Recorder again;
  const f::Report all = analyze(samples, again, true);
  CHECK(again.ids == rec.ids);
  CHECK(all.connections.size() == all.connection_count);
}

// A FIN re-sent 40 s after a clean close that had gone quiet: the connection was finalised (30 s
// settle) and left a tombstone, which absorbs the FIN. It is not analysed, but the report says it
// came (summary.late_segments, and the text summary).
TEST_CASE("streaming: segments of a finalised connection are counted in the report",
          "[pipeline][streaming]") {
  namespace synth = lastack::synth;
  using synth::Side;
  synth::Conversation c(lastack::test::host("10.0.0.1", 40000, 1000),
                        lastack::test::host("10.0.0.2", 80, 5000));
  c.handshake();
  c.close(Side::client);
  const lastack::Timestamp closed = c.now();
  c.at(closed + lastack::Duration::from_s(40)).retransmit_fin(Side::server);
  // Capture time moves on through other traffic (a SYN 35 s after the close), which finalises
  // the settled connection before its FIN comes back.
  synth::Conversation other(lastack::test::host("10.0.0.1", 40001, 3000),
                            lastack::test::host("10.0.0.2", 80, 5000),
                            closed + lastack::Duration::from_s(35));
  other.syn(Side::client);
  std::vector<synth::SynthPacket> packets = c.packets();
  packets.insert(packets.end() - 1, other.packets().begin(), other.packets().end());
  const lastack::hostile::Scratch dir("late");
  const std::string path = (dir / "late.pcap").string();
  REQUIRE(synth::write_file(path, synth::write_pcap(packets)));

  lastack::pipeline::Options o;
  o.inputs = {path};
  auto r = lastack::pipeline::analyze(o);
  REQUIRE(r.ok());
  CHECK(r.value().connection_count == 2);
  CHECK(r.value().counters.late_segments == 1);
  CHECK(r.value().findings_by_kind().count("fin_retransmit") == 0);
  CHECK(nlohmann::json::parse(lastack::sink::to_json(r.value()))["summary"]["late_segments"] == 1);
  const lastack::hostile::Scratch out_dir("late-text");
  std::FILE* out = std::fopen((out_dir / "summary.txt").c_str(), "w");
  REQUIRE(out != nullptr);
  lastack::sink::write_text_summary(r.value(), out);
  std::fclose(out);
  CHECK(
      lastack::hostile::read_text(out_dir / "summary.txt").find("late segments 1 (not analysed)") !=
      std::string::npos);

  // Without the 40 s pause the FIN is a retransmission of a live connection: analysed.
  synth::Conversation quick(lastack::test::host("10.0.0.1", 40000, 1000),
                            lastack::test::host("10.0.0.2", 80, 5000));
  quick.handshake();
  quick.close(Side::client);
  quick.after(lastack::Duration::from_ms(200)).retransmit_fin(Side::server);
  const std::string quick_path = (dir / "quick.pcap").string();
  REQUIRE(synth::write_file(quick_path, synth::write_pcap(quick.packets())));
  o.inputs = {quick_path};
  auto q = lastack::pipeline::analyze(o);
  REQUIRE(q.ok());
  CHECK(q.value().counters.late_segments == 0);
  CHECK(q.value().findings_by_kind().count("fin_retransmit") == 1);
}

TEST_CASE("streaming: a half-open attempt told of at its idle end counts from its first SYN",
          "[pipeline][streaming][tw]") {
  // TIME_WAIT pressure hears of a half-open attempt only when it is answered or ends; this one
  // never is and ends at the idle timeout (300 s after its SYN), longer after its SYN than the
  // window the sweep otherwise keeps (190 s). The pipeline holds the sweep at that SYN, so the
  // streamed section is the batch sweep's over the same connections.
  namespace synth = lastack::synth;
  using lastack::Duration;
  synth::Conversation attempt(lastack::test::host("10.0.0.1", 40000, 1000),
                              lastack::test::host("10.0.0.2", 80, 5000));
  attempt.syn(synth::Side::client);
  std::vector<synth::SynthPacket> packets = attempt.packets();
  for (std::uint16_t k = 1; k <= 60; ++k) {
    synth::Conversation c(lastack::test::host("10.0.0.1", static_cast<std::uint16_t>(40000 + k), k),
                          lastack::test::host("10.0.0.2", 80, 5000),
                          packets.front().ts + Duration::from_s(10 * k));
    c.handshake();
    c.close(synth::Side::client);
    packets.insert(packets.end(), c.packets().begin(), c.packets().end());
  }
  const lastack::hostile::Scratch dir("held");
  const std::string path = (dir / "held.pcap").string();
  REQUIRE(synth::write_file(path, synth::write_pcap(packets)));

  lastack::pipeline::Options o;
  o.inputs = {path};
  o.settings.all_connections = true;
  auto r = lastack::pipeline::analyze(o);
  REQUIRE(r.ok());
  const f::Report& report = r.value();
  REQUIRE(report.connections.size() == 61);
  CHECK(report.connections.front().client_final_state == "SYN_SENT");
  std::vector<f::Finding> want_findings;
  const f::TimeWaitPressure want = lastack::test::reference_time_wait(
      report.connections, report.inputs, report.settings, want_findings);
  REQUIRE(report.time_wait.has_value());
  CHECK(lastack::test::describe_tw(*report.time_wait) == lastack::test::describe_tw(want));
}
