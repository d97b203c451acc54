// FindingStore: what goes in comes back (every evidence type, frames, links, subject), in the
// canonical order Report::finalize() gives findings in memory, from memory or from the file.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>
#include <vector>

#include "lastack/findings/report.h"

namespace f = lastack::findings;
using lastack::Timestamp;

namespace {

f::Finding finding(std::int64_t ts, std::uint64_t conn, std::string kind, std::string cause,
                   std::string message) {
  f::Finding fd;
  fd.ts = Timestamp{ts};
  fd.connection_id = conn;
  fd.kind = std::move(kind);
  fd.cause = std::move(cause);
  fd.message = std::move(message);
  fd.severity = f::Severity::warning;
  fd.confidence = f::Confidence::probable;
  return fd;
}

// Findings that exercise every field and every order key (ties down to frames and message).
std::vector<f::Finding> sample() {
  std::vector<f::Finding> v;
  v.push_back(finding(300, 1, "lost_final_ack", "reacked", "third"));
  v.back().evidence = {{"flag", true},
                       {"count", std::int64_t{-7}},
                       {"gap_s", 0.25},
                       {"state", std::string("LAST_ACK")},
                       {"rtts", std::vector<double>{0.5, 1.5}},
                       {"isns", std::vector<std::int64_t>{1, -2, 3}}};
  v.back().frames = {{0, 9}, {1, 12}};
  v.back().links = {{1, "fin_retransmit"}, {2, "never_produced"}};
  v.push_back(finding(100, 1, "fin_retransmit", "fin_not_acknowledged", "b"));
  v.back().frames = {{0, 5}};
  v.back().links = {{1, "lost_final_ack"}};
  v.push_back(finding(100, 1, "fin_retransmit", "fin_not_acknowledged", "a"));
  v.back().frames = {{0, 5}};
  v.push_back(finding(100, 1, "fin_retransmit", "fin_not_acknowledged", "z"));
  v.back().frames = {{0, 4}};
  v.push_back(finding(100, 0, "time_wait_pressure", "port_exhaustion_risk", "pair"));
  v.back().subject = "10.0.0.1 -> 10.0.0.2:80";
  v.back().severity = f::Severity::error;
  return v;
}

f::Report in_memory() {
  f::Report r;
  r.findings = sample();
  r.finalize();
  return r;
}

f::Report stored(std::uint64_t budget) {
  f::Report r;
  r.store = std::make_shared<f::FindingStore>(budget);
  for (const f::Finding& fd : sample()) r.store->add(fd);
  r.finalize();
  return r;
}

void check_same(const f::Finding& a, const f::Finding& b) {
  CHECK(a.id == b.id);
  CHECK(a.kind == b.kind);
  CHECK(a.cause == b.cause);
  CHECK(a.severity == b.severity);
  CHECK(a.confidence == b.confidence);
  CHECK(a.connection_id == b.connection_id);
  CHECK(a.subject == b.subject);
  CHECK(a.ts == b.ts);
  CHECK(a.frames == b.frames);
  CHECK(a.message == b.message);
  CHECK(a.evidence == b.evidence);
  CHECK(a.related_ids == b.related_ids);
  REQUIRE(a.links.size() == b.links.size());
  for (std::size_t i = 0; i < a.links.size(); ++i) {
    CHECK(a.links[i].connection_id == b.links[i].connection_id);
    CHECK(a.links[i].kind == b.links[i].kind);
  }
}

void check_same(const std::vector<f::Finding>& got, const std::vector<f::Finding>& want) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < want.size(); ++i) check_same(got[i], want[i]);
}

}  // namespace

TEST_CASE("finding store: read back from the file in the canonical order, ids and links set",
          "[findings][spill]") {
  const f::Report want = in_memory();
  const f::Report got = stored(0);  // every record goes to the file
  REQUIRE(got.store != nullptr);
  CHECK(got.store->spilled());
  REQUIRE(got.finding_count() == want.findings.size());
  f::FindingReader reader(got);
  for (std::size_t i = 0; i < want.findings.size(); ++i) check_same(reader[i], want.findings[i]);
  CHECK(reader[0].message == "pair");  // ts 100, connection 0 first
  CHECK(reader[1].message == "z");     // frame 4 before frame 5
  CHECK(reader[2].message == "a");     // then by message
  CHECK(got.findings_by_kind() == want.findings_by_kind());
  CHECK(got.findings_by_severity() == want.findings_by_severity());
}

TEST_CASE("finding store: a store that stayed in memory becomes report.findings again",
          "[findings][spill]") {
  const f::Report want = in_memory();
  const f::Report got = stored(1 << 20);
  CHECK(got.store == nullptr);
  check_same(got.findings, want.findings);
}

TEST_CASE("finding store: without a usable temporary directory the findings stay in memory",
          "[findings][spill]") {
  const char* old = std::getenv("TMPDIR");
  const std::string saved = old != nullptr ? old : "";
  ::setenv("TMPDIR", "/nonexistent/lastack-test", 1);
  const f::Report got = stored(0);
  if (old != nullptr) {
    ::setenv("TMPDIR", saved.c_str(), 1);
  } else {
    ::unsetenv("TMPDIR");
  }
  CHECK(got.store == nullptr);  // nothing reached a file: the findings are objects again
  const f::Report want = in_memory();
  check_same(got.findings, want.findings);
}
