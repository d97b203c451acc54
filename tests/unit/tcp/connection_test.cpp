// The two-endpoint state machine, transition by transition (RFC 9293 §3.3.2 diagram), driven by
// scripted conversations: each block is a script line followed by what the model must show.
#include <catch2/catch.hpp>

#include "lastack/tcp/connection.h"
#include "support/scripted.h"

using lastack::Duration;
using lastack::SeqNum;
using lastack::synth::Conversation;
using lastack::synth::HostSpec;
using lastack::synth::Side;
using lastack::tcp::Connection;
using lastack::tcp::Fact;
using lastack::tcp::Role;
using lastack::tcp::TcpState;
using lastack::test::ScriptedConnection;
using lastack::test::ScriptedSegment;
namespace tag = lastack::tcp::fact_tag;
namespace flag = lastack::decode::tcp_flag;
namespace test = lastack::test;

namespace {

const HostSpec kClient = test::host("10.0.0.1", 40000, 1000);
const HostSpec kServer = test::host("10.0.0.2", 80, 5000);

// The single fact recorded for a frame.
const Fact& fact_of(const ScriptedConnection& m, std::uint64_t frame) {
  const auto facts = m.facts_of_frame(frame);
  REQUIRE(facts.size() == 1);
  return *facts.front();
}

}  // namespace

TEST_CASE("initial states: server listens, client closed; mid-stream starts established", "[tcp]") {
  ScriptedSegment any;
  Connection fresh(1, 1, any.key, lastack::tcp::Dir::a_to_b, /*mid_stream=*/false);
  CHECK(fresh.endpoint(Role::client).state == TcpState::closed);
  CHECK(fresh.endpoint(Role::server).state == TcpState::listen);
  CHECK_FALSE(fresh.closed());
  Connection mid(2, 1, any.key, lastack::tcp::Dir::a_to_b, /*mid_stream=*/true);
  CHECK(mid.endpoint(Role::client).state == TcpState::established);
  CHECK(mid.endpoint(Role::server).state == TcpState::established);
  CHECK(mid.mid_stream());
}

TEST_CASE("three-way handshake: SYN_SENT / SYN_RECEIVED then ESTABLISHED", "[tcp]") {
  Conversation c(kClient, kServer);
  ScriptedConnection m(c, kClient);

  c.syn(Side::client);
  m.sync();
  CHECK(m.client().state == TcpState::syn_sent);
  CHECK(m.server().state == TcpState::listen);
  CHECK(m.client().isn == SeqNum(1000));
  CHECK(m.client().first_syn.frame.frame_no == 1);

  c.syn_ack();
  m.sync();
  CHECK(m.client().state == TcpState::syn_sent);
  CHECK(m.server().state == TcpState::syn_received);
  CHECK(m.server().isn == SeqNum(5000));
  CHECK_FALSE(m.conn().handshake_seen());

  const auto t_ack = c.now() + Duration::from_ms(1);
  c.ack(Side::client);
  m.sync();
  CHECK(m.client().state == TcpState::established);
  CHECK(m.server().state == TcpState::established);
  CHECK(m.conn().handshake_seen());
  CHECK(m.conn().handshake_ack_ts() == t_ack);
  CHECK(m.client().wscale == 7);
  CHECK(m.server().wscale == 7);
  CHECK(m.client().counters.syns == 1);
  CHECK(m.server().counters.syns == 1);
}

TEST_CASE("client active close: FIN_WAIT_1, FIN_WAIT_2, TIME_WAIT; CLOSE_WAIT, LAST_ACK, CLOSED",
          "[tcp]") {
  Conversation c(kClient, kServer);
  ScriptedConnection m(c, kClient);
  c.handshake();
  c.data(Side::client, 100);
  c.ack(Side::server);
  m.sync();

  const auto fin = c.fin(Side::client);
  m.sync();
  CHECK(m.client().state == TcpState::fin_wait_1);
  CHECK(m.server().state == TcpState::established);
  CHECK(m.client().fin_sent);
  CHECK(m.client().fin_seq == SeqNum(1101));
  CHECK(m.client().first_fin.frame.frame_no == fin);
  CHECK_FALSE(m.conn().closed());

  const auto ack_of_fin = c.ack(Side::server);
  m.sync();
  CHECK(m.client().state == TcpState::fin_wait_2);
  CHECK(m.server().state == TcpState::close_wait);
  CHECK(m.client().fin_acked.frame.frame_no == ack_of_fin);
  CHECK(m.server().acked_peer_fin.frame.frame_no == ack_of_fin);

  c.fin(Side::server);
  m.sync();
  CHECK(m.server().state == TcpState::last_ack);
  CHECK(m.client().state == TcpState::fin_wait_2);
  CHECK(m.conn().closed());

  const auto final_ack = c.ack(Side::client);
  m.sync();
  CHECK(m.client().state == TcpState::time_wait);
  CHECK(m.server().state == TcpState::closed);
  CHECK(m.client().time_wait_entered.frame.frame_no == final_ack);
  CHECK(m.client().time_wait_restarted.frame.frame_no == final_ack);
  CHECK_FALSE(m.server().time_wait_entered.seen);
  CHECK(m.conn().end_moment().seen);
  CHECK(m.conn().end_moment().frame.frame_no == final_ack);
  CHECK_FALSE(m.conn().reset());
}

TEST_CASE("server active close mirrors the client's", "[tcp]") {
  Conversation c(kClient, kServer);
  ScriptedConnection m(c, kClient);
  c.handshake();
  c.exchange(10, 500);

  c.fin(Side::server);
  m.sync();
  CHECK(m.server().state == TcpState::fin_wait_1);
  c.ack(Side::client);
  m.sync();
  CHECK(m.server().state == TcpState::fin_wait_2);
  CHECK(m.client().state == TcpState::close_wait);
  c.fin(Side::client);
  m.sync();
  CHECK(m.client().state == TcpState::last_ack);
  const auto final_ack = c.ack(Side::server);
  m.sync();
  CHECK(m.server().state == TcpState::time_wait);
  CHECK(m.client().state == TcpState::closed);
  CHECK(m.server().time_wait_entered.frame.frame_no == final_ack);
  CHECK_FALSE(m.client().time_wait_entered.seen);
}

TEST_CASE("FIN+ACK piggyback: the passive side goes CLOSE_WAIT then LAST_ACK in one segment",
          "[tcp]") {
  Conversation c(kClient, kServer);
  ScriptedConnection m(c, kClient);
  c.handshake();
  c.fin(Side::client);
  const auto fin_ack = c.fin(Side::server);  // FIN|ACK acknowledging the client's FIN
  m.sync();
  CHECK(m.server().state == TcpState::last_ack);
  CHECK(m.client().state == TcpState::fin_wait_2);

  const Fact& f = fact_of(m, fin_ack);
  CHECK(f.from == Role::server);
  CHECK(f.flags == (flag::fin | flag::ack));
  CHECK(f.self_before == TcpState::established);
  CHECK(f.self_after == TcpState::last_ack);
  CHECK(f.peer_before == TcpState::fin_wait_1);
  CHECK(f.peer_after == TcpState::fin_wait_2);
  CHECK(f.has(tag::acks_peer_fin));
  CHECK(f.has(tag::first_fin_ack));
  CHECK_FALSE(f.has(tag::retransmission));

  c.ack(Side::client);
  m.sync();
  CHECK(m.client().state == TcpState::time_wait);
  CHECK(m.server().state == TcpState::closed);
}

TEST_CASE("FIN piggybacked on data", "[tcp]") {
  Conversation c(kClient, kServer);
  ScriptedConnection m(c, kClient);
  c.handshake();
  c.fin_data(Side::client, 200);
  m.sync();
  CHECK(m.client().state == TcpState::fin_wait_1);
  CHECK(m.client().fin_seq == SeqNum(1001 + 200));
  CHECK(m.client().snd_max == SeqNum(1001 + 201));
  CHECK(m.client().counters.bytes == 200);
}

TEST_CASE("simultaneous close: FIN_WAIT_1 and CLOSING on the way to TIME_WAIT on both sides",
          "[tcp]") {
  Conversation c(kClient, kServer);
  ScriptedConnection m(c, kClient);
  c.handshake();
  c.fin(Side::client);
  // The FINs cross: the server's does not acknowledge the client's.
  c.fin(Side::server, test::with_ack(c.rcv_next(Side::server) - 1));
  m.sync();
  CHECK(m.client().state == TcpState::fin_wait_1);
  CHECK(m.server().state == TcpState::fin_wait_1);

  // The server ACKs the client's FIN first: it had received that FIN in FIN_WAIT_1 → CLOSING.
  c.ack(Side::server);
  m.sync();
  CHECK(m.server().state == TcpState::closing);
  CHECK(m.client().state == TcpState::fin_wait_2);  // the model only sees its FIN acknowledged

  const auto last = c.ack(Side::client);
  m.sync();
  CHECK(m.client().state == TcpState::time_wait);
  CHECK(m.server().state == TcpState::time_wait);
  // CLOSING → TIME_WAIT happens when the closer's own FIN is acknowledged.
  CHECK(m.server().time_wait_entered.frame.frame_no == last);
  CHECK(m.client().time_wait_entered.frame.frame_no == last);
}

TEST_CASE("simultaneous close: the side that ACKs the crossing FIN goes through CLOSING", "[tcp]") {
  // Model limitation worth knowing: both real endpoints pass CLOSING, but the model learns that
  // an endpoint received the peer's FIN only from its ACK, so the first ACK moves the other side
  // FIN_WAIT_1 → FIN_WAIT_2.
  Conversation c(kClient, kServer);
  ScriptedConnection m(c, kClient);
  c.handshake();
  c.fin(Side::client);
  c.fin(Side::server, test::with_ack(c.rcv_next(Side::server) - 1));
  c.ack(Side::client);
  m.sync();
  CHECK(m.client().state == TcpState::closing);
  CHECK(m.server().state == TcpState::fin_wait_2);
  c.ack(Side::server);
  m.sync();
  CHECK(m.client().state == TcpState::time_wait);
  CHECK(m.server().state == TcpState::time_wait);
}

TEST_CASE("half-close: data keeps flowing after the client's FIN", "[tcp]") {
  Conversation c(kClient, kServer);
  ScriptedConnection m(c, kClient);
  c.handshake();
  c.fin(Side::client);
  c.ack(Side::server);
  const auto d1 = c.data(Side::server, 300);
  c.ack(Side::client);
  c.data(Side::server, 200);
  c.ack(Side::client);
  m.sync();
  CHECK(m.client().state == TcpState::fin_wait_2);
  CHECK(m.server().state == TcpState::close_wait);
  CHECK(m.server().bytes_after_peer_fin == 500);
  CHECK(m.server().first_data_after_peer_fin.frame.frame_no == d1);
  const Fact& f = fact_of(m, d1);
  CHECK(f.has(tag::after_peer_fin));
  CHECK(f.has(tag::new_data));
  CHECK_FALSE(f.has(tag::retransmission));

  c.fin(Side::server);
  c.ack(Side::client);
  m.sync();
  CHECK(m.client().state == TcpState::time_wait);
  CHECK(m.server().state == TcpState::closed);
  CHECK(m.server().counters.retransmissions == 0);
}

TEST_CASE("RST with the exact sequence number resets both endpoints", "[tcp]") {
  Conversation c(kClient, kServer);
  ScriptedConnection m(c, kClient);
  c.handshake();
  c.data(Side::client, 100);
  c.ack(Side::server);
  const auto rst = c.rst(Side::client);
  m.sync();
  CHECK(m.client().state == TcpState::closed);
  CHECK(m.server().state == TcpState::closed);
  CHECK(m.conn().reset());
  CHECK(m.conn().closed());
  CHECK(m.conn().reset_at().frame.frame_no == rst);
  CHECK(m.client().first_rst.frame.frame_no == rst);
  CHECK(m.client().counters.rsts == 1);
  const Fact& f = fact_of(m, rst);
  CHECK(f.has(tag::rst_exact));
  CHECK_FALSE(f.has(tag::rst_in_window));
  CHECK(f.self_before == TcpState::established);
  CHECK(f.self_after == TcpState::closed);
  CHECK(f.peer_before == TcpState::established);
  CHECK(f.peer_after == TcpState::closed);
  CHECK(m.conn().end_moment().frame.frame_no == rst);
}

TEST_CASE("RST inside the receiver's window is accepted (older stacks); outside it is ignored",
          "[tcp]") {
  SECTION("in window") {
    Conversation c(kClient, kServer);
    ScriptedConnection m(c, kClient);
    c.handshake();
    const auto rst = c.rst(Side::client, test::with_seq(c.next_seq(Side::client) + 1000));
    m.sync();
    CHECK(fact_of(m, rst).has(tag::rst_in_window));
    CHECK_FALSE(fact_of(m, rst).has(tag::rst_exact));
    CHECK(m.server().state == TcpState::closed);
    CHECK(m.conn().reset());
  }
  SECTION("out of window") {
    Conversation c(kClient, kServer);
    ScriptedConnection m(c, kClient);
    c.handshake();
    const auto rst = c.rst(Side::client, test::with_seq(c.next_seq(Side::client) + 0x40000000));
    c.data(Side::server, 10);  // the server goes on
    m.sync();
    const Fact& f = fact_of(m, rst);
    CHECK_FALSE(f.has(tag::rst_exact));
    CHECK_FALSE(f.has(tag::rst_in_window));
    CHECK(m.server().state == TcpState::established);
    CHECK_FALSE(m.conn().reset());
    CHECK_FALSE(m.conn().closed());
    // The RST does not move the sender's sequence space.
    CHECK(m.client().snd_max == SeqNum(1001));
  }
}

TEST_CASE("RST in SYN_SENT must acknowledge the SYN (refused connection)", "[tcp]") {
  Conversation c(kClient, kServer);
  ScriptedConnection m(c, kClient);
  c.syn(Side::client);
  const auto rst = c.rst(Side::server);  // RST|ACK, ack = ISN + 1
  m.sync();
  CHECK(fact_of(m, rst).has(tag::rst_exact));
  CHECK(fact_of(m, rst).self_before == TcpState::listen);
  CHECK(fact_of(m, rst).peer_before == TcpState::syn_sent);
  CHECK(m.client().state == TcpState::closed);
  CHECK(m.conn().reset());
  CHECK_FALSE(m.conn().handshake_seen());
}

TEST_CASE("RST in SYN_SENT with a wrong ack is not accepted", "[tcp]") {
  Conversation c(kClient, kServer);
  ScriptedConnection m(c, kClient);
  c.syn(Side::client);
  const auto rst = c.rst(Side::server, test::with_ack(777));
  m.sync();
  CHECK_FALSE(fact_of(m, rst).has(tag::rst_exact));
  CHECK(m.client().state == TcpState::syn_sent);
  CHECK_FALSE(m.conn().reset());
}

TEST_CASE("a FIN re-sent after the model saw the final ACK puts the sender back in LAST_ACK",
          "[tcp]") {
  Conversation c(kClient, kServer);
  ScriptedConnection m(c, kClient);
  c.handshake();
  c.fin(Side::client);
  c.ack(Side::server);
  const auto fin = c.fin(Side::server);
  c.ack(Side::client);
  m.sync();
  REQUIRE(m.server().state == TcpState::closed);
  const auto first_tw = m.client().time_wait_entered;

  const auto again = c.after(Duration::from_ms(300)).retransmit_fin(Side::server);
  m.sync();
  CHECK(m.server().state == TcpState::last_ack);
  CHECK(m.server().fin_transmissions == 2);
  CHECK(m.server().counters.retransmissions == 1);
  CHECK(m.server().counters.fins == 2);
  const Fact& f = fact_of(m, again);
  CHECK(f.has(tag::retransmission));
  CHECK(f.has(tag::after_own_fin));
  CHECK(f.self_before == TcpState::closed);
  CHECK(f.self_after == TcpState::last_ack);
  CHECK(m.server().first_fin.frame.frame_no == fin);

  const auto reack = c.ack(Side::client);
  m.sync();
  CHECK(m.server().state == TcpState::closed);
  CHECK(m.client().state == TcpState::time_wait);
  CHECK(m.client().time_wait_entered.frame == first_tw.frame);
  CHECK(m.client().time_wait_restarted.frame.frame_no == reack);
  CHECK(m.conn().end_moment().frame.frame_no == reack);
  const Fact& r = fact_of(m, reack);
  CHECK(r.has(tag::acks_peer_fin));
  CHECK_FALSE(r.has(tag::first_fin_ack));
}

TEST_CASE("a FIN_WAIT_2 endpoint re-sending its FIN goes back to FIN_WAIT_1", "[tcp]") {
  Conversation c(kClient, kServer);
  ScriptedConnection m(c, kClient);
  c.handshake();
  c.fin(Side::client);
  c.ack(Side::server);
  m.sync();
  REQUIRE(m.client().state == TcpState::fin_wait_2);
  c.after(Duration::from_ms(400)).retransmit_fin(Side::client);
  m.sync();
  CHECK(m.client().state == TcpState::fin_wait_1);
  c.ack(Side::server);
  m.sync();
  CHECK(m.client().state == TcpState::fin_wait_2);
}

TEST_CASE("duplicate captures are counted as duplicates, not retransmissions", "[tcp]") {
  Conversation c(kClient, kServer);
  ScriptedConnection m(c, kClient);
  c.handshake();
  c.data(Side::client, 100);
  c.after(Duration::from_ms(0)).retransmit_last(Side::client);  // same frame, same instant
  const auto fin = c.fin(Side::client);
  const auto dup_fin = c.after(Duration{500'000}).retransmit_last(Side::client);  // 0.5 ms later
  m.sync();
  CHECK(m.client().counters.duplicates == 2);
  CHECK(m.client().counters.retransmissions == 0);
  CHECK(m.client().counters.packets == 6);  // duplicates are still packets
  CHECK(m.client().counters.bytes == 100);
  CHECK(m.client().fin_transmissions == 1);
  CHECK(m.client().counters.fins == 1);
  CHECK(fact_of(m, fin).has(tag::duplicate) == false);
  CHECK(fact_of(m, dup_fin).has(tag::duplicate));
  CHECK(m.conn().history().find('T') == std::string_view::npos);
}

TEST_CASE("the same segment 300 ms later is a retransmission, not a duplicate", "[tcp]") {
  Conversation c(kClient, kServer);
  ScriptedConnection m(c, kClient);
  c.handshake();
  c.data(Side::client, 100);
  const auto rtx = c.after(Duration::from_ms(300)).retransmit_last(Side::client);
  m.sync();
  CHECK(m.client().counters.duplicates == 0);
  CHECK(m.client().counters.retransmissions == 1);
  CHECK(m.conn().history() == "ShADT");
  // Byte-identical copies are told apart by time alone.
  CHECK(m.fed()[rtx - 1].seg.ip_id == m.fed()[rtx - 2].seg.ip_id);
}

TEST_CASE("keep-alive probes (seq = next - 1, 0 or 1 byte) are not retransmissions", "[tcp]") {
  Conversation c(kClient, kServer);
  ScriptedConnection m(c, kClient);
  c.handshake();
  c.data(Side::client, 100);
  c.ack(Side::server);
  const std::uint32_t next = c.next_seq(Side::client);
  c.after(Duration::from_s(75)).ack(Side::client, test::with_seq(next - 1));
  c.ack(Side::server);
  c.after(Duration::from_s(75)).data(Side::client, 1, test::with_seq(next - 1));
  c.ack(Side::server);
  m.sync();
  CHECK(m.client().counters.retransmissions == 0);
  CHECK(m.client().counters.duplicates == 0);
  CHECK(m.client().snd_max == SeqNum(next));
  CHECK(m.conn().history() == "ShADa");
}

TEST_CASE("a real retransmission of the last byte is still a retransmission", "[tcp]") {
  // Near-miss of the 1-byte keep-alive: two bytes re-sent at next - 2.
  Conversation c(kClient, kServer);
  ScriptedConnection m(c, kClient);
  c.handshake();
  c.data(Side::client, 100);
  const std::uint32_t next = c.next_seq(Side::client);
  c.after(Duration::from_ms(300)).data(Side::client, 2, test::with_seq(next - 2));
  m.sync();
  CHECK(m.client().counters.retransmissions == 1);
}

TEST_CASE("sequence numbers wrap around 2^32 through a full close", "[tcp]") {
  const HostSpec client = test::host("10.0.0.1", 40000, 0xFFFFFF00U);
  const HostSpec server = test::host("10.0.0.2", 80, 0xFFFFFFFFU);  // SYN-ACK occupies 2^32 - 1
  Conversation c(client, server);
  ScriptedConnection m(c, client);
  c.handshake();
  c.data(Side::client, 1000);  // 0xFFFFFF01 … crosses zero
  c.ack(Side::server);
  c.data(Side::server, 1000);
  c.ack(Side::client);
  m.sync();
  CHECK(m.client().state == TcpState::established);
  CHECK(m.server().state == TcpState::established);
  CHECK(m.client().snd_max == SeqNum(0xFFFFFF01U + 1000));
  CHECK(m.client().snd_max.raw() == 1000 - 0xFF);
  CHECK(m.server().snd_max.raw() == 1000);
  CHECK(m.client().counters.retransmissions == 0);
  CHECK(m.server().counters.retransmissions == 0);

  c.close(Side::client);
  m.sync();
  CHECK(m.client().fin_seq.raw() == 1000 - 0xFF);
  CHECK(m.server().fin_seq.raw() == 1000);
  CHECK(m.client().state == TcpState::time_wait);
  CHECK(m.server().state == TcpState::closed);
  CHECK(m.client().counters.retransmissions == 0);
  CHECK(m.conn().history() == "ShADadFf");
}

TEST_CASE("history uses Zeek letters, once per side, upper case for the client", "[tcp]") {
  SECTION("clean exchange") {
    Conversation c(kClient, kServer);
    ScriptedConnection m(c, kClient);
    c.handshake();
    c.data(Side::client, 100);
    c.ack(Side::server);
    c.data(Side::server, 100);
    c.ack(Side::client);
    c.data(Side::client, 100);  // D again: no new letter
    c.close(Side::client);
    m.sync();
    CHECK(m.conn().history() == "ShADadFf");
  }
  SECTION("retransmission and reset") {
    Conversation c(kClient, kServer);
    ScriptedConnection m(c, kClient);
    c.handshake();
    c.data(Side::server, 100);
    c.after(Duration::from_ms(300)).retransmit_last(Side::server);
    c.rst(Side::client);
    m.sync();
    CHECK(m.conn().history() == "ShAdtR");
  }
}

TEST_CASE("fits(): segments of this incarnation fit, another incarnation's do not", "[tcp]") {
  HostSpec client = kClient;
  HostSpec server = kServer;
  client.timestamps = server.timestamps = true;
  client.ts_start = 500'000;
  server.ts_start = 700'000;
  Conversation c(client, server);
  ScriptedConnection m(c, client);
  c.handshake();
  c.exchange(100, 100);
  m.sync();
  for (const ScriptedSegment& s : m.fed()) CHECK(m.conn().fits(s.seg, m.role_of(s)));

  SECTION("SYN with another ISN does not fit; the same ISN does") {
    const auto segs = test::to_segments(c);
    lastack::tcp::Segment syn = segs.front().seg;
    CHECK(m.conn().fits(syn, Role::client));
    syn.seq = SeqNum(123456789);
    CHECK_FALSE(m.conn().fits(syn, Role::client));
  }
  SECTION("ISN far away") {
    HostSpec oc = client, os = server;
    oc.isn = 0x80001000U;
    os.isn = 0x90000000U;
    oc.ts_start = 600'000;
    os.ts_start = 800'000;
    Conversation other(oc, os);
    other.handshake();
    other.data(Side::client, 100);
    other.data(Side::server, 100);
    for (const ScriptedSegment& s : test::to_segments(other)) {
      if (s.seg.syn() && s.seg.ack_flag()) continue;
      CHECK_FALSE(m.conn().fits(s.seg, m.role_of(s)));
    }
  }
  SECTION("TSval older than this incarnation's SYN") {
    // Same sequence numbers, but the sender's clock is behind the one this incarnation started
    // with: RFC 7323 §5, an older connection.
    HostSpec oc = client;
    oc.ts_start = 100;
    Conversation older(oc, server);
    older.handshake();
    older.data(Side::client, 50);
    const auto segs = test::to_segments(older);
    CHECK_FALSE(m.conn().fits(segs.back().seg, Role::client));
    // The same segment without timestamps fits by sequence numbers alone.
    lastack::tcp::Segment no_ts = segs.back().seg;
    no_ts.has_ts = false;
    CHECK(m.conn().fits(no_ts, Role::client));
  }
  SECTION("IP id far from the sender's run") {
    lastack::tcp::Segment s = m.fed().back().seg;  // client ACK, ip ids 1..4 so far
    s.ip_id = 30000;
    CHECK_FALSE(m.conn().fits(s, Role::client));
    s.ip_id = 40;
    CHECK(m.conn().fits(s, Role::client));
  }
}

TEST_CASE("facts: FIN, ACK of FIN and RST carry the right tags and states", "[tcp]") {
  Conversation c(kClient, kServer);
  ScriptedConnection m(c, kClient);
  c.handshake();
  c.data(Side::server, 100);
  const auto fin = c.fin(Side::client);  // also ACKs the server's data
  const auto ack_of_fin = c.ack(Side::server);
  const auto data_after = c.data(Side::server, 50);
  // The RST leaves before the 50 bytes arrive: its ack does not cover them.
  const auto rst = c.rst(Side::client, test::with_ack(5101));
  m.sync();
  CHECK(m.conn().facts().size() == 6);  // SYN, SYN-ACK, FIN, its ACK, first data after, RST

  const Fact& f = fact_of(m, fin);
  CHECK(f.from == Role::client);
  CHECK(f.flags == (flag::fin | flag::ack));
  CHECK(f.seq == SeqNum(1001));
  CHECK(f.len == 0);
  CHECK(f.self_before == TcpState::established);
  CHECK(f.self_after == TcpState::fin_wait_1);
  CHECK(f.peer_before == TcpState::established);
  CHECK(f.peer_after == TcpState::established);
  CHECK(f.tags == tag::new_data);  // the FIN occupies new sequence space

  const Fact& a = fact_of(m, ack_of_fin);
  CHECK(a.from == Role::server);
  CHECK(a.ack == SeqNum(1002));
  CHECK(a.tags == (tag::acks_peer_fin | tag::first_fin_ack));
  CHECK(a.self_before == TcpState::established);
  CHECK(a.self_after == TcpState::close_wait);
  CHECK(a.peer_before == TcpState::fin_wait_1);
  CHECK(a.peer_after == TcpState::fin_wait_2);

  const Fact& d = fact_of(m, data_after);
  CHECK(d.tags == (tag::new_data | tag::after_peer_fin | tag::acks_peer_fin));
  CHECK(d.len == 50);
  CHECK(d.unacked_by_peer == 50);  // the client has not acknowledged it

  const Fact& r = fact_of(m, rst);
  CHECK(r.from == Role::client);
  CHECK(r.tags == tag::rst_exact);
  CHECK(r.self_before == TcpState::fin_wait_2);
  CHECK(r.self_after == TcpState::closed);
  CHECK(r.peer_before == TcpState::close_wait);
  CHECK(r.peer_after == TcpState::closed);
  CHECK(r.unacked_by_self == 50);
}

TEST_CASE("SYN not captured: the client's ACK of the SYN-ACK establishes it", "[tcp]") {
  // fixed bug: with the client's SYN missing, the client endpoint stays CLOSED for the whole
  // connection (apply_ack only moves SYN_SENT → ESTABLISHED). It then goes CLOSED →
  // FIN_WAIT_1 on a FIN it sends *after* ACKing the server's FIN (should be CLOSE_WAIT →
  // LAST_ACK), and facts carry self_before = CLOSED, which hides abortive closes.
  Conversation c(kClient, kServer);
  ScriptedConnection m(c, kClient);
  c.syn(Side::client, test::lost());
  c.syn_ack();
  c.ack(Side::client);
  m.sync();
  CHECK(m.client().state == TcpState::established);
  c.fin(Side::server);
  c.ack(Side::client);
  m.sync();
  CHECK(m.client().state == TcpState::close_wait);
  c.fin(Side::client);
  m.sync();
  CHECK(m.client().state == TcpState::last_ack);
}

TEST_CASE("snaplen: options the capture cut are recorded, not guessed", "[tcp][snaplen]") {
  // Timestamps on. The SYN is cut at 68 bytes (its window scale is read, its timestamp not),
  // the SYN-ACK at 54 (no option at all), the client's FIN at 54; the rest is whole.
  HostSpec client = kClient;
  HostSpec server = kServer;
  client.timestamps = server.timestamps = true;
  Conversation c(client, server);
  c.handshake();
  c.data(Side::client, 100);
  c.ack(Side::server);
  const std::uint64_t fin = c.fin(Side::client);
  std::vector<lastack::synth::SynthPacket> packets = c.packets();
  const auto cut = [&packets](std::uint64_t frame, std::size_t snaplen) {
    auto& p = packets.at(frame - 1);
    p.orig_len = static_cast<std::uint32_t>(p.bytes.size());
    p.bytes.resize(snaplen);
  };
  cut(1, 68);
  cut(2, 54);
  cut(fin, 54);
  const std::vector<ScriptedSegment> segs = test::to_segments(packets, c.link());
  CHECK(segs[0].seg.options_cut);
  CHECK(segs[0].seg.wscale == 7);
  CHECK_FALSE(segs[0].seg.has_ts);
  CHECK(segs[0].seg.ts_unknown());
  CHECK(segs[1].seg.ts_unknown());
  CHECK(segs[1].seg.wscale == -1);
  CHECK_FALSE(segs[2].seg.options_cut);
  CHECK(segs[2].seg.has_ts);
  CHECK(segs[2].seg.len == 0);  // the handshake ACK
  CHECK(segs[3].seg.len == 100);

  Connection conn(1, 1, segs[0].key, segs[0].dir, false);
  for (const ScriptedSegment& s : segs) conn.on_segment(s.seg, conn.role_of(s.dir));
  const auto& cl = conn.endpoint(Role::client);
  const auto& sv = conn.endpoint(Role::server);
  CHECK(cl.syn_ts_cut);
  CHECK_FALSE(cl.syn_wscale_cut);  // the option was read before the cut
  CHECK(cl.ts_cut);
  CHECK(sv.syn_ts_cut);
  CHECK(sv.syn_wscale_cut);
  CHECK(sv.ts_cut);
  // The first TSval seen of the client is its handshake ACK's, not its SYN's.
  CHECK(cl.ts_seen);
  CHECK(cl.ts_first == segs[2].seg.ts_val);
  // The flags, sequence numbers and lengths are all still there: the close goes on as usual.
  CHECK(cl.state == TcpState::fin_wait_1);
  CHECK(sv.state == TcpState::established);  // it has not acknowledged the FIN yet
  bool fin_fact = false;
  for (const Fact& f : conn.facts()) {
    if (f.frame.frame_no == fin) {
      fin_fact = true;
      CHECK(f.has(tag::ts_cut));
    } else if (f.frame.frame_no >= 3) {
      CHECK_FALSE(f.has(tag::ts_cut));
    }
  }
  CHECK(fin_fact);
  const auto prev = conn.snapshot();
  CHECK(prev.ts_cut[static_cast<int>(Role::client)]);
}

TEST_CASE("snaplen: payload cut but options whole is no cut that matters", "[tcp][snaplen]") {
  HostSpec client = kClient;
  client.timestamps = true;
  Conversation c(client, kServer);
  c.handshake();
  const std::uint64_t data = c.data(Side::client, 500);
  std::vector<lastack::synth::SynthPacket> packets = c.packets();
  auto& p = packets.at(data - 1);
  p.orig_len = static_cast<std::uint32_t>(p.bytes.size());
  p.bytes.resize(14 + 20 + 32 + 10);  // header and options whole, 10 payload bytes
  const std::vector<ScriptedSegment> segs = test::to_segments(packets, c.link());
  const lastack::tcp::Segment& s = segs.at(data - 1).seg;
  CHECK_FALSE(s.options_cut);
  CHECK(s.has_ts);
  CHECK(s.len == 500);  // from the IP header
}
