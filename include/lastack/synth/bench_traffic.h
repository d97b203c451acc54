// Large, realistic benchmark captures with a ground truth (bench/lastack-bench-gen and the
// ground-truth test). Deterministic from a seed; streamed to disk connection group by connection
// group through a small time-ordered active set, so memory follows concurrent connections, not
// the capture size.
//
// Traffic: many short request/response connections (client or server closes first, HTTP-like
// keep-alive with 1-3 exchanges), some long bulk flows with losses and retransmissions, IPv4 and
// IPv6, ephemeral ports cycling through narrow and full ranges so four-tuples are reused (always
// more than 2MSL after the previous use, unless the reuse is an injected anomaly). Teardown
// anomalies are injected at a known rate; each one is recorded with the finding kind lastack must
// report for it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lastack/core/ip_address.h"
#include "lastack/core/result.h"
#include "lastack/core/timestamp.h"

namespace lastack::synth {

struct BenchConfig {
  std::uint64_t seed = 1;
  std::uint64_t packets = 1'000'000;  // target; rounded up to whole connection groups
  double connections_per_s = 300;     // Poisson arrivals of connection groups
  double long_flow_share = 0.0007;    // fraction of groups that are long bulk flows
  double ipv6_share = 0.2;
  double anomaly_share = 0.02;  // fraction of groups with an injected anomaly
  bool pcapng = false;
  Timestamp start{1'767'225'600'000'000'000};  // 2026-01-01T00:00:00Z
};

// One injected anomaly: the connection group it lives in and what lastack must report.
struct InjectedAnomaly {
  std::uint64_t id = 0;
  std::string scenario;           // generator's name for the script
  std::string kind;               // the finding kind that must be reported
  std::string cause;              // its cause, when the script makes it certain ("" = any)
  std::vector<std::string> also;  // other kinds the script also produces (not required)
  IpAddress client_ip;
  std::uint16_t client_port = 0;
  IpAddress server_ip;
  std::uint16_t server_port = 0;
  std::uint32_t incarnation = 1;  // incarnation (within the four-tuple) the kind is on
  Timestamp start;                // first and last packet of the whole group
  Timestamp end;
};

struct BenchTruth {
  std::uint64_t seed = 0;
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;              // file size
  std::uint64_t groups = 0;             // connection groups (a reuse scenario is one group)
  std::uint64_t connections = 0;        // incarnations written
  std::uint64_t clean_connections = 0;  // incarnations of groups without an injected anomaly
  std::uint64_t long_flows = 0;
  std::uint64_t ipv6_connections = 0;
  std::uint64_t port_reuses = 0;  // four-tuples reused (> 2MSL later) by clean traffic
  Timestamp first_ts;
  Timestamp last_ts;
  std::vector<InjectedAnomaly> anomalies;

  [[nodiscard]] std::string to_json() const;
  // True when a connection (client/server endpoints, first packet time) belongs to an injected
  // anomaly's group; returns it or nullptr.
  [[nodiscard]] const InjectedAnomaly* anomaly_of(const IpAddress& client_ip,
                                                  std::uint16_t client_port,
                                                  const IpAddress& server_ip,
                                                  std::uint16_t server_port,
                                                  Timestamp first_seen) const;
};

// Writes the capture to `path` (pcap, µs, or pcapng) and fills `truth`.
Status generate_bench_capture(const BenchConfig& config, const std::string& path,
                              BenchTruth& truth);

}  // namespace lastack::synth
