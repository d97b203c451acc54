// The benchmark generator and the detectors agree (bench_traffic.h): on a small bench capture,
// every injected anomaly is reported with its kind (and cause where the script makes it
// certain), and no connection outside an injected anomaly gets an error or critical finding.
// The same check runs at full size in bench/compare.sh (lastack-bench-check).
#include <catch2/catch.hpp>

#include <unistd.h>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>

#include "lastack/pipeline/analyze.h"
#include "lastack/synth/bench_traffic.h"

namespace fs = std::filesystem;
using lastack::synth::BenchConfig;
using lastack::synth::BenchTruth;
using lastack::synth::InjectedAnomaly;

namespace {

fs::path scratch(const std::string& name) {
  const char* base = std::getenv("LASTACK_TEST_TMP");
  fs::path dir = (base != nullptr && *base != '\0') ? fs::path(base) : fs::temp_directory_path();
  dir /= "bench-truth-" + std::to_string(::getpid());
  fs::create_directories(dir);
  return dir / name;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

BenchConfig small_config(bool pcapng) {
  BenchConfig cfg;
  cfg.seed = 20260101;
  cfg.packets = 20000;
  cfg.anomaly_share = 0.3;  // every scenario several times in 20k packets
  cfg.long_flow_share = 0.01;
  cfg.pcapng = pcapng;
  return cfg;
}

struct Check {
  std::map<std::string, std::pair<int, int>> per_scenario;  // found, injected
  std::vector<std::string> missing;
  std::vector<std::string> unexpected;
};

Check check(const BenchTruth& truth, const lastack::findings::Report& report) {
  std::map<std::uint64_t, const lastack::findings::ConnectionSummary*> conns;
  for (const auto& c : report.connections) conns[c.id] = &c;
  std::map<const InjectedAnomaly*, std::set<std::string>> found;
  Check out;
  for (const auto& f : report.findings) {
    const auto* c = conns.at(f.connection_id);
    const InjectedAnomaly* a =
        truth.anomaly_of(c->client_ip, c->client_port, c->server_ip, c->server_port, c->first_ts);
    if (a != nullptr) {
      found[a].insert(f.kind + "/" + f.cause);
    } else if (f.severity >= lastack::findings::Severity::error) {
      out.unexpected.push_back(
          f.kind + "/" + f.cause + " on " + lastack::format_endpoint(c->client_ip, c->client_port) +
          " -> " + lastack::format_endpoint(c->server_ip, c->server_port) + ": " + f.message);
    }
  }
  for (const InjectedAnomaly& a : truth.anomalies) {
    bool ok = false;
    for (const std::string& kc : found[&a]) {
      if (kc.rfind(a.kind + "/", 0) == 0 && (a.cause.empty() || kc == a.kind + "/" + a.cause))
        ok = true;
    }
    auto& ps = out.per_scenario[a.scenario];
    ++ps.second;
    if (ok) {
      ++ps.first;
    } else {
      std::string got;
      for (const std::string& kc : found[&a]) got += " " + kc;
      out.missing.push_back(a.scenario + " #" + std::to_string(a.id) + " on " +
                            lastack::format_endpoint(a.client_ip, a.client_port) + ": want " +
                            a.kind + "/" + a.cause + ", got" + got);
    }
  }
  return out;
}

}  // namespace

TEST_CASE("bench generator: every injected anomaly is found, clean traffic has no errors",
          "[golden][bench]") {
  const bool pcapng = GENERATE(false, true);
  const fs::path cap = scratch(pcapng ? "small.pcapng" : "small.pcap");
  BenchTruth truth;
  REQUIRE(lastack::synth::generate_bench_capture(small_config(pcapng), cap.string(), truth));
  REQUIRE(truth.packets >= 20000);
  REQUIRE(truth.clean_connections > 0);
  REQUIRE(truth.long_flows > 0);
  REQUIRE(truth.ipv6_connections > 0);

  lastack::pipeline::Options opt;
  opt.inputs = {cap.string()};
  auto result = lastack::pipeline::analyze(opt);
  REQUIRE(result);
  const auto& report = result.value();
  CHECK(report.counters.packets == truth.packets);
  CHECK(report.counters.tcp_packets == truth.packets);
  CHECK(report.connection_count == truth.connections);

  const Check c = check(truth, report);
  // Every scenario the generator has is exercised.
  CHECK(c.per_scenario.size() == 13);
  for (const auto& [scenario, n] : c.per_scenario) {
    INFO(scenario << ": found " << n.first << " of " << n.second);
    CHECK(n.first == n.second);
  }
  for (const std::string& m : c.missing) UNSCOPED_INFO("missing " << m);
  CHECK(c.missing.empty());
  for (const std::string& u : c.unexpected) UNSCOPED_INFO("unexpected " << u);
  CHECK(c.unexpected.empty());
  fs::remove(cap);
}

TEST_CASE("bench generator: the same seed gives the same bytes and truth", "[golden][bench]") {
  BenchConfig cfg = small_config(false);
  cfg.packets = 5000;
  const fs::path a = scratch("a.pcap");
  const fs::path b = scratch("b.pcap");
  BenchTruth ta;
  BenchTruth tb;
  REQUIRE(lastack::synth::generate_bench_capture(cfg, a.string(), ta));
  REQUIRE(lastack::synth::generate_bench_capture(cfg, b.string(), tb));
  CHECK(slurp(a) == slurp(b));
  CHECK(ta.to_json() == tb.to_json());
  CHECK(ta.bytes == fs::file_size(a));
  cfg.seed += 1;
  REQUIRE(lastack::synth::generate_bench_capture(cfg, b.string(), tb));
  CHECK(slurp(a) != slurp(b));
  fs::remove(a);
  fs::remove(b);
}
