// The synthetic teardown captures (samples/synthetic, written by `lastack-synth write-all`):
// (a) every committed file is byte-identical to what the generator writes now, and the README
//     too, so generator, samples and expectations cannot drift apart;
// (b) lastack reports exactly the findings each scenario expects (kind, cause, severity,
//     confidence, evidence frames; order-independent; nothing extra);
// (c) the connection summaries the scenarios are about (close kind, active closer, TIME_WAIT
//     holder, mid_stream, ...), for the decoys above all.
// Regenerate the samples with: lastack-synth write-all samples/synthetic
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "lastack/synth/scenarios.h"
#include "support/golden.h"

namespace {

namespace synth = lastack::synth;
using nlohmann::json;

std::string sample_of(const synth::Scenario& s) {
  return "samples/synthetic/" + s.file_name();
}

std::string describe(const synth::ExpectedFinding& f) {
  std::ostringstream o;
  o << f.kind << "/" << f.cause << " " << f.severity << " " << f.confidence << " @";
  for (std::size_t i = 0; i < f.frames.size(); ++i) o << (i ? "," : "") << f.frames[i];
  return o.str();
}

std::vector<std::string> expected_findings(const synth::Scenario& s) {
  std::vector<std::string> out;
  for (const synth::ExpectedFinding& f : s.findings) out.push_back(describe(f));
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> reported_findings(const json& report) {
  std::vector<std::string> out;
  for (const json& f : report.at("findings")) {
    synth::ExpectedFinding e;
    e.kind = f.at("kind").get<std::string>();
    e.cause = f.at("cause").get<std::string>();
    e.severity = f.at("severity").get<std::string>();
    e.confidence = f.at("confidence").get<std::string>();
    for (const json& n : f.at("frames")) e.frames.push_back(n.get<std::uint64_t>());
    std::sort(e.frames.begin(), e.frames.end());
    out.push_back(describe(e));
  }
  std::sort(out.begin(), out.end());
  return out;
}

void check_findings(const synth::Scenario& s) {
  const json report = lastack::test::analyze_sample(sample_of(s));
  INFO(s.name << ": " << s.description);
  CHECK(reported_findings(report) == expected_findings(s));
}

void check_connections(const synth::Scenario& s) {
  const json report = lastack::test::analyze_sample(sample_of(s));
  const json& conns = report.at("connections");
  if (s.connection_count) CHECK(conns.size() == *s.connection_count);
  REQUIRE(conns.size() >= s.connections.size());
  for (std::size_t i = 0; i < s.connections.size(); ++i) {
    const synth::ExpectedConnection& e = s.connections[i];
    const json& c = conns[i];
    INFO(s.name << " connection " << i + 1 << ": " << c.dump());
    CHECK(c.at("incarnation").get<std::uint32_t>() == e.incarnation);
    CHECK(c.at("close_kind").get<std::string>() == e.close_kind);
    CHECK(c.at("active_closer").get<std::string>() == e.active_closer);
    CHECK(c.at("time_wait_holder").get<std::string>() == e.time_wait_holder);
    CHECK(c.at("mid_stream").get<bool>() == e.mid_stream);
    CHECK(c.at("handshake_seen").get<bool>() == e.handshake_seen);
    if (!e.client_state.empty()) CHECK(c.at("client_state").get<std::string>() == e.client_state);
    if (!e.server_state.empty()) CHECK(c.at("server_state").get<std::string>() == e.server_state);
  }
}

const synth::Scenario& scenario(const std::string& name) {
  static const std::vector<synth::Scenario> all = synth::make_all_scenarios();
  for (const synth::Scenario& s : all) {
    if (s.name == name) return s;
  }
  FAIL("no scenario " << name);
  return all.front();
}

}  // namespace

TEST_CASE("synthetic samples are byte-identical to the generator's output", "[synthetic]") {
  const std::vector<synth::Scenario> all = synth::make_all_scenarios();
  REQUIRE(all.size() >= 25);
  std::set<std::string> names;
  for (const synth::Scenario& s : all) {
    DYNAMIC_SECTION(s.name) {
      CHECK(names.insert(s.name).second);
      const std::vector<std::uint8_t> bytes = s.file_bytes();
      const std::string want(bytes.begin(), bytes.end());
      const std::string have = lastack::test::read_text(lastack::test::source_path(sample_of(s)));
      INFO(
          sample_of(s) << " differs from the generator: lastack-synth write-all samples/synthetic");
      CHECK(have.size() == want.size());
      CHECK((have == want));
    }
  }
  SECTION("README.md") {
    const std::string have =
        lastack::test::read_text(lastack::test::source_path("samples/synthetic/README.md"));
    CHECK((have == synth::scenarios_readme(all)));
  }
}

TEST_CASE("synthetic samples hold exactly the scenarios' files", "[synthetic]") {
  std::set<std::string> expected;
  for (const synth::Scenario& s : synth::make_all_scenarios()) expected.insert(sample_of(s));
  std::set<std::string> present;
  for (const std::string& f : lastack::test::sample_files()) {
    if (f.rfind("samples/synthetic/", 0) == 0) present.insert(f);
  }
  CHECK(present == expected);
}

TEST_CASE("the generator is deterministic", "[synthetic]") {
  for (const synth::ScenarioEntry& e : synth::scenario_registry()) {
    DYNAMIC_SECTION(e.name) {
      CHECK((e.make().file_bytes() == e.make().file_bytes()));
      CHECK(e.make().name == e.name);
    }
  }
}

TEST_CASE("lastack reports exactly the expected findings on each synthetic sample", "[synthetic]") {
  for (const synth::Scenario& s : synth::make_all_scenarios()) {
    DYNAMIC_SECTION(s.name) {
      if (s.decoy) CHECK(s.findings.empty());
      check_findings(s);
    }
  }
}

TEST_CASE("synthetic connection summaries", "[synthetic]") {
  for (const synth::Scenario& s : synth::make_all_scenarios()) {
    DYNAMIC_SECTION(s.name) {
      check_connections(s);
    }
  }
}

namespace {

// Runs `lastack-synth ARGS`, returns its exit status and standard output.
int run_synth(const std::string& args, std::string& out) {
  const std::string cmd = std::string("'") + LASTACK_SYNTH_BINARY + "' " + args + " 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  out.clear();
  for (std::size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  const int status = pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

TEST_CASE("lastack-synth list, write and errors", "[synthetic]") {
  std::string out;
  REQUIRE(run_synth("list", out) == 0);
  for (const synth::ScenarioEntry& e : synth::scenario_registry()) {
    CHECK(!e.summary.empty());
    CHECK(e.name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") == std::string::npos);
    CHECK(out.find(e.name + " ") != std::string::npos);
  }
  CHECK(run_synth("", out) == 2);
  CHECK(run_synth("frobnicate", out) == 2);
  CHECK(run_synth("write no_such_scenario /dev/null", out) == 2);
  CHECK(run_synth("write lost_final_ack_reacked", out) == 2);
  CHECK(run_synth("write lost_final_ack_reacked /nonexistent-dir/x.pcap", out) == 2);
}

// The report's summary.duplicates counts the duplicate frames the state machine recognised
// (detections.md §2 "Duplicates"), which are never retransmissions.
TEST_CASE("duplicate frames are counted in summary.duplicates", "[synthetic]") {
  const synth::Scenario& s = scenario("duplicate_frames");
  REQUIRE(s.duplicates);
  const json report = lastack::test::analyze_sample(sample_of(s));
  CHECK(report.at("summary").at("duplicates").get<std::uint64_t>() == *s.duplicates);
}
