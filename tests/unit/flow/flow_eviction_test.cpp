// The flow table's memory budget (issue #6): oldest half-open attempts go first, unanalysed and
// counted per server; then the least recently active four-tuple is finalised early.
#include <catch2/catch.hpp>

#include <string>

#include "lastack/flow/eviction_stats.h"
#include "lastack/flow/flow_table.h"
#include "support/scripted.h"

using lastack::Duration;
using lastack::Timestamp;
using lastack::flow::FlowSettings;
using lastack::flow::FlowTable;
using lastack::flow::TargetCounts;
using lastack::synth::Conversation;
using lastack::synth::Side;
using lastack::test::kT0;
using lastack::test::ScriptedFlows;
namespace test = lastack::test;

namespace {

// A budget that holds exactly `n` connections, each on its own four-tuple.
FlowSettings budget_for(std::uint64_t n) {
  const FlowTable probe(FlowSettings{}, {});
  FlowSettings s;
  s.memory_budget = n * (probe.connection_bytes() + FlowTable::flow_bytes());
  return s;
}

// A SYN from 100.64.0.<i>:<port> to the server, never answered, i ms after kT0.
Conversation lone_syn(std::uint32_t i, const char* server_ip, std::uint16_t server_port) {
  const std::string client =
      "100.64." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1);
  Conversation c(test::host(client.c_str(), static_cast<std::uint16_t>(10'000 + i), 1000 + i),
                 test::host(server_ip, server_port, 0), kT0 + Duration::from_ms(i));
  c.syn(Side::client);
  return c;
}

// A complete handshake and a request from 192.0.2.<i> to 10.0.0.9:80, starting at `start`.
Conversation established(std::uint32_t i, Timestamp start) {
  const std::string client = "192.0.2." + std::to_string(i + 1);
  Conversation c(test::host(client.c_str(), 40'000, 7000 + i), test::host("10.0.0.9", 80, 9000),
                 start);
  c.handshake();
  c.data(Side::client, 10);
  return c;
}

}  // namespace

TEST_CASE(
    "eviction: over budget, the oldest half-open attempts are dropped and counted per "
    "server",
    "[flow][eviction]") {
  ScriptedFlows flows(budget_for(10));
  for (std::uint32_t i = 0; i < 30; ++i) {
    flows.feed(lone_syn(i, i % 3 == 0 ? "10.0.0.2" : "10.0.0.1", 80));
  }
  const auto ev = flows.table().evictions();
  CHECK(ev.half_open == 20);
  CHECK(ev.live == 0);
  CHECK(flows.table().live_connections() == 10);
  CHECK(flows.table().bytes_in_use() <= budget_for(10).memory_budget);
  REQUIRE(ev.by_target.size() == 2);
  // Attempts 0..19 were evicted: 13 to 10.0.0.1, 7 to 10.0.0.2 (every third).
  CHECK(lastack::format_endpoint(ev.by_target[0].ip, ev.by_target[0].port) == "10.0.0.1:80");
  CHECK(ev.by_target[0].half_open == 13);
  CHECK(ev.by_target[1].half_open == 7);
  REQUIRE(ev.first_half_open_frame);
  CHECK(ev.first_half_open_frame->frame_no == 1);
  CHECK(ev.first_half_open_ts == kT0);
  flows.finish();
  // The ten newest attempts are finalised normally; the evicted ones never reach the caller.
  REQUIRE(flows.finalized().size() == 10);
  CHECK(flows.finalized().front()->id() == 21);
}

TEST_CASE("eviction: a connection whose handshake completed is not half-open", "[flow][eviction]") {
  ScriptedFlows flows(budget_for(4));
  flows.feed(established(0, kT0));
  for (std::uint32_t i = 0; i < 10; ++i) flows.feed(lone_syn(i, "10.0.0.1", 80));
  CHECK(flows.table().evictions().half_open == 7);
  CHECK(flows.table().evictions().live == 0);
  flows.finish();
  CHECK(flows.by_id(1).handshake_seen());  // the established one survived, and was analysed
}

TEST_CASE(
    "eviction: with no half-open attempt left, the least recently active four-tuple is "
    "finalised early",
    "[flow][eviction]") {
  ScriptedFlows flows(budget_for(3));
  for (std::uint32_t i = 0; i < 3; ++i) flows.feed(established(i, kT0 + Duration::from_s(i)));
  flows.feed(established(3, kT0 + Duration::from_s(4)));
  const auto ev = flows.table().evictions();
  CHECK(ev.half_open == 0);
  CHECK(ev.live == 1);
  REQUIRE(flows.finalized().size() == 1);
  CHECK(flows.finalized().front()->id() == 1);  // nothing talked again: the first one goes
  flows.finish();
  CHECK(flows.finalized().size() == 4);  // every connection was analysed
}

TEST_CASE("eviction: activity keeps a four-tuple from being the least recently active",
          "[flow][eviction]") {
  ScriptedFlows flows(budget_for(2));
  Conversation first = established(0, kT0);
  Conversation second = established(1, kT0 + Duration::from_s(1));
  flows.feed(first).feed(second);
  first.at(kT0 + Duration::from_s(2)).data(Side::server, 100);  // the first one talks again
  const auto& pk = first.packets();
  flows.feed(std::vector<lastack::synth::SynthPacket>(pk.end() - 1, pk.end()), first.link());
  flows.feed(established(2, kT0 + Duration::from_s(3)));
  REQUIRE(flows.finalized().size() == 1);
  CHECK(flows.finalized().front()->id() == 2);
  CHECK(flows.table().evictions().live == 1);
}

TEST_CASE("eviction: no budget, no eviction", "[flow][eviction]") {
  ScriptedFlows flows;
  for (std::uint32_t i = 0; i < 50; ++i) flows.feed(lone_syn(i, "10.0.0.1", 80));
  CHECK_FALSE(flows.table().evictions().any());
  CHECK(flows.table().live_connections() == 50);
}

TEST_CASE("eviction: per-server counts are bounded; the rest share one count", "[flow][eviction]") {
  TargetCounts counts;
  lastack::IpAddress ip = test::ip("10.0.0.1");
  for (std::uint32_t port = 1; port <= TargetCounts::kMaxTargets + 5; ++port) {
    counts.add(ip, static_cast<std::uint16_t>(port));
  }
  counts.add(ip, 7);
  counts.add(ip, 7);
  const auto sorted = counts.sorted();
  CHECK(sorted.size() == TargetCounts::kMaxTargets);
  CHECK(counts.others() == 5);
  CHECK(sorted.front().port == 7);
  CHECK(sorted.front().half_open == 3);
  CHECK(sorted[1].port == 1);  // ties in address and port order
}
