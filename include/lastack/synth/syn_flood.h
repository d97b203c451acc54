// A SYN flood capture (RFC 4987) for the memory-cap tests and `lastack-synth syn-flood`:
// `syns` SYNs from random source addresses and ports (100.64.0.0/10, as spoofed floods use) to
// three servers — 10.30.0.1:80 gets 60 %, 10.30.0.2:443 30 %, 10.30.0.3:22 10 % — none ever
// answered, with a few complete legitimate connections (192.0.2.10+k:50000+k -> 10.30.0.1:80:
// handshake, request, response, client closes first) spread evenly through it. Deterministic
// from the seed; streamed to disk (pcap, µs), so memory does not follow `syns`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lastack/core/result.h"
#include "lastack/core/timestamp.h"

namespace lastack::synth {

struct SynFloodConfig {
  std::uint64_t seed = 1;
  std::uint64_t syns = 1'000'000;
  std::uint32_t legitimate = 4;
  double syns_per_s = 100'000;
  Timestamp start{1'767'225'600'000'000'000};  // 2026-01-01T00:00:00Z
};

struct SynFloodTruth {
  std::uint64_t packets = 0;
  std::vector<std::string> servers;             // "ip:port", most targeted first
  std::vector<std::uint64_t> syns_per_server;   // same order
  std::vector<std::string> legitimate_clients;  // "ip:port" of each legitimate connection
};

Status generate_syn_flood(const SynFloodConfig& config, const std::string& path,
                          SynFloodTruth& truth);

}  // namespace lastack::synth
