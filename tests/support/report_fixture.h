// Hand-built findings::Report values for sink and CLI tests: realistic content (two inputs, one
// truncated; IPv4 and IPv6; linked findings; a finding whose frames span two inputs; every
// evidence type) without running the pipeline.
#pragma once

#include <cstdint>

#include "lastack/core/ip_address.h"
#include "lastack/findings/report.h"

namespace lastack::test {

// 2026-11-21T09:00:00Z, the base time of the fixtures.
inline constexpr std::int64_t kFixtureBaseNs = 1'795'251'600LL * 1'000'000'000LL;

// The main fixture, finalized. Contents (ids after finalize):
//   connections 1: 10.0.0.1:40000 -> 10.0.0.2:80 #1 (fin; client TIME_WAIT)
//               2: same four-tuple #2 (reuse while the server was in LAST_ACK)
//               3: [2001:db8::1]:51000 -> [2001:db8::2]:443 #1 (abortive)
//               4: 192.168.1.5:33000 -> 192.168.1.9:22 #1 (open at end, no findings)
//   findings    1: fin_retransmit/final_ack_lost info      conn 1 frames 31,34   related [2]
//               2: lost_final_ack/reacked warning          conn 1 frames 31,33,34 related [1]
//               3: tuple_reuse/while_last_ack error        conn 2 frames in0:118, in1:2
//                                                          related [2]
//               4: abortive_close/unread_data error        conn 3 frames 7,9 (input 1)
// The detectors' order is deliberately not canonical, to exercise finalize().
findings::Report make_fixture_report();

// One clean input, two connections, no findings.
findings::Report make_quiet_report();

// An address from text ("10.0.0.1", "2001:db8::1"); aborts the test run on a typo.
IpAddress fixture_ip(const char* text);

}  // namespace lastack::test
