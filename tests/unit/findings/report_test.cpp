#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <tuple>
#include <vector>

#include "lastack/findings/report.h"
#include "support/report_fixture.h"

namespace f = lastack::findings;
using lastack::Timestamp;

namespace {

f::Finding finding(std::int64_t ts_ns, std::uint64_t conn, std::string kind, std::string cause,
                   std::vector<f::FrameRef> frames = {}) {
  f::Finding fd;
  fd.ts = Timestamp{ts_ns};
  fd.connection_id = conn;
  fd.kind = std::move(kind);
  fd.cause = std::move(cause);
  fd.frames = std::move(frames);
  return fd;
}

f::ConnectionSummary summary(std::uint64_t id) {
  f::ConnectionSummary c;
  c.id = id;
  return c;
}

std::vector<std::string> kinds_in_order(const f::Report& r) {
  std::vector<std::string> out;
  for (const auto& fd : r.findings) out.push_back(fd.kind + "/" + fd.cause);
  return out;
}

}  // namespace

TEST_CASE("finalize orders findings by time, connection, kind, cause, frames", "[findings]") {
  f::Report r;
  r.findings = {finding(300, 1, "a", "x"),           finding(100, 2, "b", "x"),
                finding(100, 1, "b", "x"),           finding(100, 1, "a", "y"),
                finding(100, 1, "a", "x", {{0, 9}}), finding(100, 1, "a", "x", {{0, 5}})};
  r.finalize();
  REQUIRE(r.findings.size() == 6);
  for (std::size_t i = 0; i < r.findings.size(); ++i) CHECK(r.findings[i].id == i + 1);
  CHECK(kinds_in_order(r) == std::vector<std::string>{"a/x", "a/x", "a/y", "b/x", "b/x", "a/x"});
  CHECK(r.findings[0].frames.front().frame_no == 5);
  CHECK(r.findings[1].frames.front().frame_no == 9);
  CHECK(r.findings[3].connection_id == 1);
  CHECK(r.findings[4].connection_id == 2);
  CHECK(r.findings[5].ts.ns == 300);
}

TEST_CASE("finalize gives the same report whatever order detectors emitted", "[findings]") {
  const f::Report reference = lastack::test::make_fixture_report();
  std::vector<f::Finding> shuffled = reference.findings;
  std::sort(shuffled.begin(), shuffled.end(),
            [](const f::Finding& a, const f::Finding& b) { return a.message < b.message; });
  do {
    f::Report r = reference;
    r.findings = shuffled;
    for (auto& fd : r.findings) fd.id = 0;
    r.finalize();
    REQUIRE(kinds_in_order(r) == kinds_in_order(reference));
    for (std::size_t i = 0; i < r.findings.size(); ++i) {
      CHECK(r.findings[i].related_ids == reference.findings[i].related_ids);
    }
  } while (std::next_permutation(
      shuffled.begin(), shuffled.end(),
      [](const f::Finding& a, const f::Finding& b) { return a.message < b.message; }));
}

TEST_CASE("finalize resolves links to ids both ways and drops unresolved ones", "[findings]") {
  const f::Report r = lastack::test::make_fixture_report();
  REQUIRE(r.findings.size() == 4);
  CHECK(r.findings[0].kind == "fin_retransmit");
  CHECK(r.findings[0].related_ids == std::vector<std::uint64_t>{2});
  CHECK(r.findings[1].kind == "lost_final_ack");
  CHECK(r.findings[1].related_ids == std::vector<std::uint64_t>{1});
  CHECK(r.findings[2].kind == "tuple_reuse");
  CHECK(r.findings[2].related_ids == std::vector<std::uint64_t>{2});
  CHECK(r.findings[3].kind == "abortive_close");
  CHECK(r.findings[3].related_ids.empty());  // its link names a finding never produced
}

TEST_CASE("finalize links to every match, never to itself, without duplicates", "[findings]") {
  f::Report r;
  r.findings = {finding(1, 1, "fin_retransmit", "unanswered"),
                finding(2, 1, "fin_retransmit", "unanswered"),
                finding(3, 1, "lost_final_ack", "reacked")};
  r.findings[0].links = {{1, "fin_retransmit"}};  // only itself and #2 match
  r.findings[2].links = {{1, "fin_retransmit"}, {1, "fin_retransmit"}, {2, "fin_retransmit"}};
  r.finalize();
  CHECK(r.findings[0].related_ids == std::vector<std::uint64_t>{2});
  CHECK(r.findings[2].related_ids == std::vector<std::uint64_t>{1, 2});
}

TEST_CASE("finalize fills finding_ids and sorts connections by id", "[findings]") {
  const f::Report r = lastack::test::make_fixture_report();
  REQUIRE(r.connections.size() == 4);
  for (std::size_t i = 0; i < r.connections.size(); ++i) CHECK(r.connections[i].id == i + 1);
  CHECK(r.connections[0].finding_ids == std::vector<std::uint64_t>{1, 2});
  CHECK(r.connections[1].finding_ids == std::vector<std::uint64_t>{3});
  CHECK(r.connections[2].finding_ids == std::vector<std::uint64_t>{4});
  CHECK(r.connections[3].finding_ids.empty());
}

TEST_CASE("finalize is idempotent", "[findings]") {
  f::Report r = lastack::test::make_fixture_report();
  r.finalize();
  CHECK(r.connections[0].finding_ids == std::vector<std::uint64_t>{1, 2});
  CHECK(r.findings[2].related_ids == std::vector<std::uint64_t>{2});
}

TEST_CASE("findings are counted by kind and severity", "[findings]") {
  const f::Report r = lastack::test::make_fixture_report();
  const auto by_kind = r.findings_by_kind();
  CHECK(by_kind.size() == 4);
  CHECK(by_kind.at("lost_final_ack") == 1);
  CHECK(by_kind.at("tuple_reuse") == 1);
  const auto by_severity = r.findings_by_severity();
  CHECK(by_severity.at("info") == 1);
  CHECK(by_severity.at("warning") == 1);
  CHECK(by_severity.at("error") == 2);
  CHECK(by_severity.count("critical") == 0);
}

TEST_CASE("fails() compares the worst finding with --fail-on", "[findings]") {
  f::Report r = lastack::test::make_fixture_report();  // worst finding: error
  r.settings.fail_on = f::Severity::info;
  CHECK(r.fails());
  r.settings.fail_on = f::Severity::warning;
  CHECK(r.fails());
  r.settings.fail_on = f::Severity::error;
  CHECK(r.fails());
  r.settings.fail_on = f::Severity::critical;
  CHECK_FALSE(r.fails());
  r.settings.fail_on = std::nullopt;
  CHECK_FALSE(r.fails());

  r.findings.back().severity = f::Severity::critical;
  r.settings.fail_on = f::Severity::critical;
  CHECK(r.fails());
  r.settings.fail_on = std::nullopt;
  CHECK_FALSE(r.fails());  // never means never

  f::Report empty;
  empty.settings.fail_on = f::Severity::info;
  CHECK_FALSE(empty.fails());
}

TEST_CASE("listed_connections: with findings by default, all on request", "[findings]") {
  f::Report r = lastack::test::make_fixture_report();
  auto listed = r.listed_connections();
  REQUIRE(listed.size() == 3);
  CHECK(listed[0]->id == 1);
  CHECK(listed[1]->id == 2);
  CHECK(listed[2]->id == 3);
  r.settings.all_connections = true;
  listed = r.listed_connections();
  REQUIRE(listed.size() == 4);
  CHECK(listed[3]->id == 4);
}

TEST_CASE("listed_connections does not depend on finalize having run", "[findings]") {
  f::Report r;
  r.connections = {summary(3), summary(1), summary(2)};
  r.findings = {finding(1, 3, "k", "c"), finding(2, 1, "k", "c")};
  const auto listed = r.listed_connections();
  REQUIRE(listed.size() == 2);
  CHECK(listed[0]->id == 1);
  CHECK(listed[1]->id == 3);
}

TEST_CASE("finalize sorts many findings and connections stably, each element moved intact",
          "[findings]") {
  // Keys drawn from a small range so that many findings tie on every key; `seq` (evidence, not a
  // key) records the emission order that ties must keep. Checked against std::stable_sort.
  f::Report r;
  std::uint64_t state = 12345;
  auto next = [&state](std::uint64_t n) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (state >> 33) % n;
  };
  for (std::int64_t seq = 0; seq < 2000; ++seq) {
    f::Finding fd = finding(static_cast<std::int64_t>(next(20)), next(5) + 1,
                            next(2) == 0 ? "a" : "b", "x", {{0, next(3)}});
    fd.evidence.emplace_back("seq", seq);
    r.findings.push_back(std::move(fd));
    r.connections.push_back(summary(next(100000) * 2000 + static_cast<std::uint64_t>(seq) + 1));
  }
  std::vector<f::Finding> want = r.findings;
  std::stable_sort(want.begin(), want.end(), [](const f::Finding& a, const f::Finding& b) {
    return std::tie(a.ts, a.connection_id, a.kind, a.cause, a.frames) <
           std::tie(b.ts, b.connection_id, b.kind, b.cause, b.frames);
  });
  std::vector<std::uint64_t> want_ids;
  for (const auto& c : r.connections) want_ids.push_back(c.id);
  std::sort(want_ids.begin(), want_ids.end());
  r.finalize();
  REQUIRE(r.findings.size() == want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    CHECK(r.findings[i].id == i + 1);
    CHECK(std::get<std::int64_t>(r.findings[i].evidence.front().second) ==
          std::get<std::int64_t>(want[i].evidence.front().second));
  }
  std::vector<std::uint64_t> got_ids;
  for (const auto& c : r.connections) got_ids.push_back(c.id);
  CHECK(got_ids == want_ids);
}
