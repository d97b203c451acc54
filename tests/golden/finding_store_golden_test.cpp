// Findings spilled to the temporary file (findings::FindingStore) must give the very reports the
// in-memory findings give: JSON byte for byte, the terminal summary, the database's findings.
#include <catch2/catch.hpp>

#include <cstdio>
#include <string>
#include <vector>

#include "lastack/pipeline/analyze.h"
#include "lastack/sink/sinks.h"
#include "support/golden.h"
#include "support/hostile.h"
#include "support/sql.h"

namespace f = lastack::findings;

namespace {

f::Report run(const std::string& sample, std::uint64_t findings_memory) {
  lastack::pipeline::Options o;
  o.inputs = {lastack::test::source_path(sample)};
  o.settings.all_connections = true;
  o.findings_memory = findings_memory;
  auto r = lastack::pipeline::analyze(o);
  REQUIRE(r.ok());
  return std::move(r.value());
}

std::string text_summary(const f::Report& r, const lastack::hostile::Scratch& dir,
                         const std::string& name) {
  const std::string path = (dir / name).string();
  std::FILE* out = std::fopen(path.c_str(), "w");
  REQUIRE(out != nullptr);
  lastack::sink::write_text_summary(r, out);
  std::fclose(out);
  return lastack::hostile::read_text(dir / name);
}

std::vector<std::string> finding_rows(const f::Report& r, const lastack::hostile::Scratch& dir,
                                      const std::string& name) {
  const std::string path = (dir / name).string();
  REQUIRE(static_cast<bool>(lastack::sink::append_sqlite(r, path)));
  return lastack::test::sql_rows(
      path,
      "SELECT f.finding_no, f.kind, f.cause, f.severity, f.confidence, f.ts, f.frames, "
      "f.frame_refs, f.message, f.evidence_json, f.related, c.connection_no FROM findings f "
      "LEFT JOIN connections c ON c.id = f.connection_id ORDER BY f.finding_no");
}

}  // namespace

TEST_CASE("spilled findings give the same reports as findings in memory, on every sample",
          "[golden][spill]") {
  const lastack::hostile::Scratch dir("spill");
  for (const std::string& sample : lastack::test::sample_files()) {
    DYNAMIC_SECTION(sample) {
      const f::Report memory = run(sample, lastack::pipeline::kDefaultFindingsMemory);
      const f::Report file = run(sample, 0);
      CHECK(memory.store == nullptr);  // a small run gets its findings back as objects
      if (file.finding_count() == 0) continue;
      REQUIRE(file.store != nullptr);
      CHECK(file.store->spilled());
      CHECK(file.findings.empty());
      CHECK(lastack::sink::to_json(file) == lastack::sink::to_json(memory));
      CHECK(text_summary(file, dir, "file.txt") == text_summary(memory, dir, "memory.txt"));
      CHECK(finding_rows(file, dir, "file.db") == finding_rows(memory, dir, "memory.db"));
      CHECK(file.fails() == memory.fails());
      CHECK(file.findings_by_kind() == memory.findings_by_kind());
      CHECK(file.findings_by_severity() == memory.findings_by_severity());
      std::remove((dir / "file.db").c_str());
      std::remove((dir / "memory.db").c_str());
    }
  }
}
