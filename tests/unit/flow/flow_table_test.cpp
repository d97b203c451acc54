// The flow table: four-tuples, incarnations (detections.md §2), routing of late segments to the
// previous incarnation, and eviction on capture time.
#include <catch2/catch.hpp>

#include <algorithm>

#include "lastack/flow/flow_table.h"
#include "support/scripted.h"

using lastack::Duration;
using lastack::SeqNum;
using lastack::Timestamp;
using lastack::synth::Conversation;
using lastack::synth::HostSpec;
using lastack::synth::Side;
using lastack::tcp::Connection;
using lastack::tcp::Role;
using lastack::tcp::TcpState;
using lastack::test::kT0;
using lastack::test::ScriptedFlows;
namespace tag = lastack::tcp::fact_tag;
namespace test = lastack::test;

namespace {

const HostSpec kClient = test::host("10.0.0.1", 40000, 1000);
const HostSpec kServer = test::host("10.0.0.2", 80, 5000);

HostSpec with_isn(HostSpec h, std::uint32_t isn) {
  h.isn = isn;
  return h;
}

// Handshake, a request and a response, client-initiated close.
void full_close(Conversation& c) {
  c.handshake();
  c.exchange(100, 1000);
  c.close(Side::client);
}

std::vector<std::uint64_t> ids(const ScriptedFlows& f) {
  std::vector<std::uint64_t> out;
  for (const auto& c : f.finalized()) out.push_back(c->id());
  return out;
}

}  // namespace

TEST_CASE("a SYN with a new ISN after a close starts the next incarnation", "[flow]") {
  Conversation first(kClient, kServer);
  full_close(first);
  const Timestamp reopen = kT0 + Duration::from_s(5);
  Conversation second(with_isn(kClient, 900'000), with_isn(kServer, 7'000'000), reopen);
  second.handshake();

  ScriptedFlows flows;
  flows.feed(first).feed(second);
  CHECK(flows.table().connections_created() == 2);
  CHECK(flows.table().live_connections() == 2);  // the previous one is kept for late segments
  flows.finish();
  REQUIRE(ids(flows) == std::vector<std::uint64_t>{1, 2});

  const Connection& old_one = flows.by_id(1);
  const Connection& new_one = flows.by_id(2);
  CHECK(old_one.incarnation() == 1);
  CHECK(new_one.incarnation() == 2);
  CHECK(old_one.tuple() == new_one.tuple());
  REQUIRE(old_one.successor_start());
  CHECK(*old_one.successor_start() == reopen);
  REQUIRE(new_one.previous());
  const auto& p = *new_one.previous();
  CHECK(p.connection_id == 1);
  CHECK(p.client_role_now == Role::client);
  CHECK(p.closed);
  CHECK_FALSE(p.reset);
  CHECK(p.time_wait_client);
  CHECK_FALSE(p.time_wait_server);
  CHECK(p.client_fin_first);
  CHECK(p.end_frame.frame_no == 10);  // the client's final ACK
  CHECK(p.isn[0] == SeqNum(1000));
  CHECK(new_one.endpoint(Role::client).isn == SeqNum(900'000));
  CHECK(new_one.first_frame().frame_no == 11);
  CHECK(new_one.handshake_seen());
}

TEST_CASE("the server reopening the four-tuple becomes the client of the new incarnation",
          "[flow]") {
  Conversation first(kClient, kServer);
  full_close(first);
  // Same four-tuple, roles swapped: 10.0.0.2:80 connects to 10.0.0.1:40000.
  Conversation second(with_isn(kServer, 3'000'000), with_isn(kClient, 4'000'000),
                      kT0 + Duration::from_s(5));
  second.handshake();
  ScriptedFlows flows;
  flows.feed(first).feed(second).finish();
  REQUIRE(flows.finalized().size() == 2);
  const Connection& n = flows.by_id(2);
  CHECK(n.incarnation() == 2);
  CHECK(n.previous()->client_role_now == Role::server);
  CHECK(n.client_dir() != flows.by_id(1).client_dir());
}

TEST_CASE("a retransmitted SYN (same ISN) is not a new incarnation", "[flow]") {
  Conversation c(kClient, kServer);
  c.syn(Side::client);
  c.after(Duration::from_s(1)).retransmit_last(Side::client);
  c.after(Duration::from_s(2)).retransmit_last(Side::client);
  c.syn_ack();
  c.ack(Side::client);
  ScriptedFlows flows;
  flows.feed(c).finish();
  REQUIRE(flows.finalized().size() == 1);
  const Connection& conn = *flows.finalized().front();
  CHECK(conn.endpoint(Role::client).counters.syns == 3);
  CHECK(conn.endpoint(Role::client).counters.retransmissions == 2);
  CHECK(conn.handshake_seen());
  CHECK(conn.incarnation() == 1);
}

TEST_CASE("a late copy of the SYN after a close (same ISN) is not a new incarnation", "[flow]") {
  Conversation c(kClient, kServer);
  full_close(c);
  c.after(Duration::from_s(1)).syn(Side::client, test::with_seq(1000));
  ScriptedFlows flows;
  flows.feed(c).finish();
  CHECK(flows.table().connections_created() == 1);
}

TEST_CASE("a SYN retry with a new ISN while still connecting stays one incarnation (syn_seq_jump)",
          "[flow]") {
  Conversation c(kClient, kServer);
  c.syn(Side::client);
  const auto retry = c.after(Duration::from_s(3)).syn(Side::client, test::with_seq(5'555'555));
  c.syn_ack(test::with_ack(5'555'556));
  c.ack(Side::client);
  ScriptedFlows flows;
  flows.feed(c).finish();
  REQUIRE(flows.finalized().size() == 1);
  const Connection& conn = *flows.finalized().front();
  CHECK(conn.incarnation() == 1);
  CHECK_FALSE(conn.previous());
  CHECK(conn.endpoint(Role::client).isn == SeqNum(5'555'555));
  CHECK(conn.endpoint(Role::client).counters.syns == 2);
  CHECK(conn.endpoint(Role::client).counters.retransmissions == 0);
  CHECK(conn.handshake_seen());
  bool tagged = false;
  for (const auto& f : conn.facts()) {
    if (f.frame.frame_no == retry) tagged = f.has(tag::syn_new_isn);
  }
  CHECK(tagged);
}

TEST_CASE("a SYN-ACK as first packet starts a connection with its receiver as client", "[flow]") {
  Conversation c(kClient, kServer);
  c.syn(Side::client, test::lost());
  c.syn_ack();
  c.ack(Side::client);
  c.data(Side::client, 10);
  const auto segs = test::to_segments(c);
  ScriptedFlows flows;
  flows.feed(c).finish();
  REQUIRE(flows.finalized().size() == 1);
  const Connection& conn = *flows.finalized().front();
  CHECK_FALSE(conn.mid_stream());
  CHECK(conn.role_of(segs.front().dir) == Role::server);
  CHECK(conn.endpoint(Role::server).isn == SeqNum(5000));
  CHECK_FALSE(conn.endpoint(Role::client).isn_known);
  CHECK(conn.endpoint(Role::server).state == TcpState::established);
  CHECK_FALSE(conn.handshake_seen());  // the client's SYN was not captured
}

TEST_CASE("a first packet without SYN makes a mid-stream connection, client = its sender",
          "[flow]") {
  Conversation c(kClient, kServer);
  c.syn(Side::client, test::lost());
  c.syn_ack(test::lost());
  c.ack(Side::client, test::lost());
  c.data(Side::server, 100);  // the capture starts here
  c.ack(Side::client);
  const auto segs = test::to_segments(c);
  ScriptedFlows flows;
  flows.feed(c).finish();
  REQUIRE(flows.finalized().size() == 1);
  const Connection& conn = *flows.finalized().front();
  CHECK(conn.mid_stream());
  CHECK(conn.role_of(segs.front().dir) == Role::client);
  CHECK(conn.endpoint(Role::client).state == TcpState::established);
  CHECK(conn.endpoint(Role::server).state == TcpState::established);
}

TEST_CASE("the previous incarnation is kept; its late segments go to it and are noted as stale",
          "[flow]") {
  Conversation first(kClient, kServer);
  full_close(first);
  const Timestamp reopen = kT0 + Duration::from_s(2);
  Conversation second(with_isn(kClient, 900'000), with_isn(kServer, 7'000'000), reopen);
  second.handshake();
  second.data(Side::client, 10);
  // The old server re-sends its FIN; it arrives after the new handshake.
  first.at(reopen + Duration::from_ms(10)).retransmit_fin(Side::server);
  const auto merged = lastack::synth::merge_by_time({&first, &second});

  ScriptedFlows flows;
  flows.feed(merged, first.link()).finish();
  REQUIRE(flows.finalized().size() == 2);
  const std::uint64_t late = merged.size();  // the last frame
  const Connection& old_one = flows.by_id(1);
  const Connection& new_one = flows.by_id(2);
  CHECK(old_one.endpoint(Role::server).fin_transmissions == 2);
  CHECK(old_one.endpoint(Role::server).state == TcpState::last_ack);
  CHECK(new_one.endpoint(Role::server).counters.packets == 1);  // only its SYN-ACK
  bool stale = false;
  for (const auto& f : new_one.facts()) {
    if (f.frame.frame_no == late) stale = f.has(tag::stale) && f.from == Role::server;
  }
  CHECK(stale);
  CHECK(new_one.last_ts() == reopen + Duration::from_ms(10));
}

TEST_CASE("eviction: a settled connection is finalised after the settle time of quiet", "[flow]") {
  Conversation c(kClient, kServer);
  full_close(c);        // both FINs acknowledged: nothing more is expected
  ScriptedFlows flows;  // settle 30 s
  flows.feed(c);
  const Timestamp last = c.now();
  flows.expire(last + Duration::from_s(29));
  CHECK(flows.finalized().empty());
  CHECK(flows.table().live_connections() == 1);
  flows.expire(last + Duration::from_s(31));
  CHECK(flows.finalized().size() == 1);
  CHECK(flows.table().live_connections() == 0);
}

TEST_CASE(
    "eviction: the tombstone of a settled connection absorbs late segments and links a reuse "
    "until 2MSL",
    "[flow]") {
  Conversation first(kClient, kServer);
  full_close(first);
  const Timestamp last = first.now();
  first.at(last + Duration::from_s(35)).ack(Side::client);  // a late re-ACK of the old one
  Conversation second(with_isn(kClient, 900'000), with_isn(kServer, 7'000'000),
                      last + Duration::from_s(45));
  second.handshake();
  const auto& pk = first.packets();
  using Packets = std::vector<lastack::synth::SynthPacket>;
  ScriptedFlows flows;
  flows.feed(Packets(pk.begin(), pk.begin() + 10), first.link());
  flows.expire(last + Duration::from_s(31));
  CHECK(ids(flows) == std::vector<std::uint64_t>{1});  // retired, a tombstone stays

  flows.feed(Packets(pk.begin() + 10, pk.end()), first.link());
  CHECK(flows.table().late_segments() == 1);  // absorbed by the tombstone
  CHECK(flows.table().connections_created() == 1);

  flows.feed(second).finish();
  REQUIRE(ids(flows) == std::vector<std::uint64_t>{1, 2});
  const Connection& n = flows.by_id(2);
  CHECK(n.incarnation() == 2);
  REQUIRE(n.previous());
  CHECK(n.previous()->connection_id == 1);
  CHECK(n.previous()->closed);
  CHECK(n.previous()->time_wait_client);
}

TEST_CASE("eviction: a closed connection still waiting for an ACK stays 2MSL", "[flow]") {
  Conversation c(kClient, kServer);
  c.handshake();
  c.fin(Side::client);
  c.ack(Side::server);
  c.fin(Side::server);
  c.ack(Side::client, test::lost());  // the server stays in LAST_ACK
  ScriptedFlows flows;                // MSL 30 s
  flows.feed(c);
  const Timestamp last = c.now();
  flows.expire(last + Duration::from_s(59));
  CHECK(flows.finalized().empty());
  CHECK(flows.table().live_connections() == 1);
  flows.expire(last + Duration::from_s(61));
  CHECK(flows.finalized().size() == 1);
  CHECK(flows.table().live_connections() == 0);
}

TEST_CASE("eviction follows the configured MSL", "[flow]") {
  Conversation c(kClient, kServer);
  c.handshake();
  c.fin(Side::client);
  c.ack(Side::server);
  c.fin(Side::server);
  ScriptedFlows flows(lastack::flow::FlowSettings{Duration::from_s(5), Duration::from_s(300)});
  flows.feed(c);
  flows.expire(c.now() + Duration::from_s(9));
  CHECK(flows.finalized().empty());
  flows.expire(c.now() + Duration::from_s(11));
  CHECK(flows.finalized().size() == 1);
}

TEST_CASE("eviction: an open connection waits for the idle timeout", "[flow]") {
  Conversation c(kClient, kServer);
  c.handshake();
  c.data(Side::client, 100);
  c.ack(Side::server);
  ScriptedFlows flows;  // idle 300 s
  flows.feed(c);
  const Timestamp last = c.now();
  flows.expire(last + Duration::from_s(61));
  CHECK(flows.finalized().empty());  // not closed: 2MSL does not apply
  flows.expire(last + Duration::from_s(299));
  CHECK(flows.finalized().empty());
  flows.expire(last + Duration::from_s(301));
  CHECK(flows.finalized().size() == 1);
}

TEST_CASE("eviction: the previous incarnation goes once settled while the new one lives on",
          "[flow]") {
  Conversation first(kClient, kServer);
  full_close(first);
  Conversation second(with_isn(kClient, 900'000), with_isn(kServer, 7'000'000),
                      kT0 + Duration::from_s(2));
  second.handshake();
  ScriptedFlows flows;
  flows.feed(first).feed(second);
  flows.expire(first.now() + Duration::from_s(29));
  CHECK(flows.finalized().empty());
  flows.expire(first.now() + Duration::from_s(31));  // the previous one had settled
  CHECK(ids(flows) == std::vector<std::uint64_t>{1});
  CHECK(flows.table().live_connections() == 1);
  flows.finish();
  CHECK(ids(flows) == std::vector<std::uint64_t>{1, 2});
}

TEST_CASE("after eviction the four-tuple starts afresh (incarnation 1, no previous)", "[flow]") {
  Conversation first(kClient, kServer);
  full_close(first);
  // Other traffic moves capture time on past 2MSL before the four-tuple is used again.
  Conversation other(test::host("10.0.0.3", 40000, 1), kServer, kT0 + Duration::from_s(90));
  other.syn(Side::client);
  Conversation second(with_isn(kClient, 900'000), with_isn(kServer, 7'000'000),
                      kT0 + Duration::from_s(120));
  second.handshake();
  ScriptedFlows flows;
  flows.feed(first).feed(other).feed(second);
  CHECK(ids(flows) == std::vector<std::uint64_t>{1});  // evicted at the other SYN
  flows.finish();
  REQUIRE(flows.finalized().size() == 3);
  CHECK(flows.by_id(3).incarnation() == 1);
  CHECK_FALSE(flows.by_id(3).previous());
}

TEST_CASE("finish() finalises everything, in connection-id order", "[flow]") {
  // Three four-tuples whose first packets come in the order B, C, A.
  Conversation a(test::host("10.0.0.1", 40000, 1000), kServer, kT0 + Duration{300'000});
  Conversation b(test::host("10.0.0.1", 40001, 2000), kServer, kT0);
  Conversation c(test::host("10.0.0.1", 40002, 3000), kServer, kT0 + Duration{100'000});
  for (Conversation* conv : {&a, &b, &c}) {
    conv->handshake();
    conv->data(Side::client, 10);
  }
  b.fin(Side::client);  // b closes later
  b.ack(Side::server);
  b.fin(Side::server);
  b.ack(Side::client);
  const auto merged = lastack::synth::merge_by_time({&a, &b, &c});
  ScriptedFlows flows;
  flows.feed(merged, a.link());
  CHECK(flows.finalized().empty());
  flows.finish();
  REQUIRE(ids(flows) == std::vector<std::uint64_t>{1, 2, 3});
  // Ids follow first packets: B, C, A (the client is the lower address, so endpoint a).
  CHECK(flows.by_id(1).tuple().a_port == 40001);
  CHECK(flows.by_id(2).tuple().a_port == 40002);
  CHECK(flows.by_id(3).tuple().a_port == 40000);
  CHECK(flows.table().live_connections() == 0);
}

// --- Scope: VLANs and capture interfaces (README: Inputs) ---

namespace {

using Packets = std::vector<lastack::synth::SynthPacket>;

Packets on_interface(Packets p, std::uint32_t interface_id, Duration shift = Duration{0}) {
  for (auto& x : p) {
    x.interface_id = interface_id;
    x.ts = x.ts + shift;
  }
  return p;
}

Packets concat(Packets a, const Packets& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

Packets by_time(Packets p) {
  std::stable_sort(p.begin(), p.end(), [](const auto& a, const auto& b) { return a.ts < b.ts; });
  return p;
}

}  // namespace

TEST_CASE("scope: the same four-tuple on two VLANs is two flows", "[flow][scope]") {
  Conversation v10(kClient, kServer);
  Conversation v20(kClient, kServer, kT0 + Duration{300'000});
  v10.vlans({10});
  v20.vlans({20});
  full_close(v10);
  full_close(v20);
  ScriptedFlows flows;
  flows.feed(lastack::synth::merge_by_time({&v10, &v20}), v10.link()).finish();
  REQUIRE(flows.finalized().size() == 2);
  CHECK(flows.by_id(1).tuple().vlan() == 10);
  CHECK(flows.by_id(2).tuple().vlan() == 20);
  for (const auto& c : flows.finalized()) {
    CHECK(c->incarnation() == 1);
    CHECK_FALSE(c->previous());
    CHECK(c->endpoint(Role::client).counters.duplicates == 0);
    CHECK(c->endpoint(Role::client).counters.retransmissions == 0);
    CHECK(c->endpoint(Role::client).state == TcpState::time_wait);
  }
}

TEST_CASE("scope: a second interface that starts mid-connection with copies joins the flow",
          "[flow][scope]") {
  // Interface 1 only begins at the client's request (frame 4 of 10): its first segment fits the
  // connection's sequence spaces, so it is the same traffic seen again.
  Conversation c(kClient, kServer);
  full_close(c);
  const Packets copies(c.packets().begin() + 3, c.packets().end());
  ScriptedFlows flows;
  flows.feed(by_time(concat(c.packets(), on_interface(copies, 1, Duration{50'000}))), c.link());
  flows.finish();
  REQUIRE(flows.finalized().size() == 1);
  const Connection& conn = flows.by_id(1);
  CHECK(conn.interface_id() == 0);
  CHECK(conn.endpoint(Role::client).counters.duplicates +
            conn.endpoint(Role::server).counters.duplicates ==
        copies.size());
  CHECK(conn.endpoint(Role::client).counters.retransmissions == 0);
  CHECK(conn.endpoint(Role::server).state == TcpState::closed);
}

TEST_CASE("scope: other traffic on a second interface keeps its own flow after the first's expired",
          "[flow][scope]") {
  // Interface 0: a short connection, settled at once and gone (tombstone included) after
  // 2MSL. Interface 1: another connection on the same four-tuple (other ISNs) that talks every
  // 20 s for 200 s. It must stay one connection throughout.
  Conversation short_one(kClient, kServer);
  full_close(short_one);
  Conversation long_one(with_isn(kClient, 80'000'000), with_isn(kServer, 90'000'000),
                        kT0 + Duration{500'000});
  long_one.interface(1);
  long_one.handshake();
  for (int i = 1; i <= 10; ++i) {
    long_one.after(Duration::from_s(20)).data(Side::client, 10);
    long_one.ack(Side::server);
  }
  long_one.close(Side::client);
  ScriptedFlows flows;
  flows.feed(lastack::synth::merge_by_time({&short_one, &long_one}), short_one.link());
  CHECK(ids(flows) == std::vector<std::uint64_t>{1});  // the first interface's flow is gone
  flows.finish();
  REQUIRE(flows.finalized().size() == 2);
  const Connection& other = flows.by_id(2);
  CHECK(other.interface_id() == 1);
  CHECK(other.incarnation() == 1);
  CHECK_FALSE(other.mid_stream());
  CHECK(other.endpoint(Role::client).counters.packets == 2 + 10 + 2);
  CHECK(other.endpoint(Role::server).counters.packets == 1 + 10 + 2);
  CHECK(other.endpoint(Role::client).state == TcpState::time_wait);
  CHECK(other.facts().end() == std::find_if(other.facts().begin(), other.facts().end(),
                                            [](const auto& f) { return f.has(tag::stale); }));
}
