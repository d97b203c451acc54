// The streaming pipeline: every connection reaches the observer (the SQLite writer) once, in a
// deterministic order, while the report keeps only the connections it lists.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "lastack/pipeline/analyze.h"
#include "support/golden.h"

namespace f = lastack::findings;

namespace {

class Recorder final : public lastack::pipeline::RunObserver {
 public:
  void on_start(const f::Report& head) override { inputs_at_start = head.inputs.size(); }
  void on_connection(const f::ConnectionSummary& c, bool has_findings) override {
    ids.push_back(c.id);
    if (has_findings) flagged.push_back(c.id);
  }
  void on_finish(const f::Report& report) override {
    finished = true;
    findings_at_finish = report.findings.size();
  }

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
