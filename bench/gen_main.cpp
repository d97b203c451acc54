// lastack-bench-gen --seed S --packets N --out FILE [--truth FILE.json] [--pcapng]
//                   [--rate CONN_PER_S] [--anomalies SHARE] [--ipv6 SHARE]
// Writes a large realistic capture, streaming, and its ground truth (bench_traffic.h).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "lastack/synth/bench_traffic.h"

namespace {

int usage() {
  std::fprintf(stderr,
               "usage: lastack-bench-gen --seed S --packets N --out FILE [--truth FILE.json] "
               "[--pcapng] [--rate CONN_PER_S] [--anomalies SHARE] [--ipv6 SHARE]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  lastack::synth::BenchConfig cfg;
  std::string out;
  std::string truth_path;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* v = nullptr;
    if (a == "--pcapng") {
      cfg.pcapng = true;
    } else if (a == "--seed" && (v = value())) {
      cfg.seed = std::strtoull(v, nullptr, 10);
    } else if (a == "--packets" && (v = value())) {
      cfg.packets = std::strtoull(v, nullptr, 10);
    } else if (a == "--out" && (v = value())) {
      out = v;
    } else if (a == "--truth" && (v = value())) {
      truth_path = v;
    } else if (a == "--rate" && (v = value())) {
      cfg.connections_per_s = std::strtod(v, nullptr);
    } else if (a == "--anomalies" && (v = value())) {
      cfg.anomaly_share = std::strtod(v, nullptr);
    } else if (a == "--ipv6" && (v = value())) {
      cfg.ipv6_share = std::strtod(v, nullptr);
    } else {
      return usage();
    }
  }
  if (out.empty() || cfg.packets == 0 || cfg.connections_per_s <= 0) return usage();
  const auto t0 = std::chrono::steady_clock::now();
  lastack::synth::BenchTruth truth;
  const lastack::Status st = lastack::synth::generate_bench_capture(cfg, out, truth);
  if (!st) {
    std::fprintf(stderr, "lastack-bench-gen: %s\n", st.error().message.c_str());
    return 1;
  }
  if (!truth_path.empty()) {
    std::ofstream f(truth_path, std::ios::binary);
    f << truth.to_json();
    if (!f) {
      std::fprintf(stderr, "lastack-bench-gen: cannot write %s\n", truth_path.c_str());
      return 1;
    }
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::fprintf(
      stderr,
      "%s: %llu packets, %.1f MB (%.0f B/packet), %llu connections (%llu clean, %llu "
      "anomalies, %llu long flows, %llu IPv6, %llu port reuses), %.1f s of capture time; "
      "generated in %.1f s\n",
      out.c_str(), static_cast<unsigned long long>(truth.packets),
      static_cast<double>(truth.bytes) / 1e6,
      truth.packets ? static_cast<double>(truth.bytes) / static_cast<double>(truth.packets) : 0.0,
      static_cast<unsigned long long>(truth.connections),
      static_cast<unsigned long long>(truth.clean_connections),
      static_cast<unsigned long long>(truth.anomalies.size()),
      static_cast<unsigned long long>(truth.long_flows),
      static_cast<unsigned long long>(truth.ipv6_connections),
      static_cast<unsigned long long>(truth.port_reuses),
      static_cast<double>((truth.last_ts - truth.first_ts).ns) / 1e9, secs);
  return 0;
}
