// The per-connection summary (detections.md §5), and §4: the ordinary ways a connection ends
// raise no finding.
#include <catch2/catch.hpp>

#include "support/scripted.h"

using lastack::Duration;
using lastack::findings::CloseKind;
using lastack::findings::ConnectionSummary;
using lastack::findings::Side;
using lastack::synth::Conversation;
using lastack::synth::HostSpec;
namespace test = lastack::test;
namespace synth = lastack::synth;

namespace {

const HostSpec kClient = test::host("10.0.0.1", 40000, 1000);
const HostSpec kServer = test::host("10.0.0.2", 80, 5000);

void exchange(Conversation& c) {
  c.syn(synth::Side::client);
  c.syn_ack();
  c.ack(synth::Side::client);
  c.data(synth::Side::client, 100);
  c.data(synth::Side::server, 1000);
  c.ack(synth::Side::client);
}

// The only summary of a one-connection capture, with no findings.
ConnectionSummary clean(const Conversation& c) {
  const auto a = test::analyze(c);
  INFO(test::describe(a.findings));
  CHECK(a.findings.empty());
  REQUIRE(a.summaries.size() == 1);
  return a.summaries.front();
}

}  // namespace

TEST_CASE("summary of a clean client close", "[detect]") {
  Conversation c(kClient, kServer);
  exchange(c);
  c.fin(synth::Side::client);
  c.ack(synth::Side::server);
  c.fin(synth::Side::server);
  c.ack(synth::Side::client);
  const ConnectionSummary s = clean(c);
  CHECK(s.id == 1);
  CHECK(lastack::to_string(s.client_ip) == "10.0.0.1");
  CHECK(s.client_port == 40000);
  CHECK(lastack::to_string(s.server_ip) == "10.0.0.2");
  CHECK(s.server_port == 80);
  CHECK(s.incarnation == 1);
  CHECK(s.first_frame == 1);
  CHECK(s.first_ts == test::kT0);
  CHECK(s.last_ts == c.now());
  CHECK(s.handshake_seen);
  CHECK_FALSE(s.mid_stream);
  CHECK(s.close_kind == CloseKind::fin);
  CHECK(s.active_closer == Side::client);
  CHECK(s.time_wait_holder == Side::client);
  CHECK(s.final_ack_seen);
  REQUIRE(s.time_wait_start);
  CHECK(*s.time_wait_start == c.now());
  CHECK(s.client_final_state == "TIME_WAIT");
  CHECK(s.server_final_state == "CLOSED");
  CHECK(s.client.packets == 6);
  CHECK(s.client.bytes == 100);
  CHECK(s.client.syns == 1);
  CHECK(s.client.fins == 1);
  CHECK(s.client.rsts == 0);
  CHECK(s.server.packets == 4);
  CHECK(s.server.bytes == 1000);
  CHECK(s.history == "ShADdFaf");
}

TEST_CASE("summary of a server close with FIN+ACK piggyback from the client", "[detect]") {
  Conversation c(kClient, kServer);
  exchange(c);
  c.fin(synth::Side::server);
  c.fin(synth::Side::client);  // FIN|ACK acknowledging the server's FIN
  c.ack(synth::Side::server);
  const ConnectionSummary s = clean(c);
  CHECK(s.close_kind == CloseKind::fin);
  CHECK(s.active_closer == Side::server);
  CHECK(s.time_wait_holder == Side::server);
  CHECK(s.final_ack_seen);
  CHECK(s.server_final_state == "TIME_WAIT");
  CHECK(s.client_final_state == "CLOSED");
}

TEST_CASE("summary of a half-close with data still flowing at the end", "[detect]") {
  Conversation c(kClient, kServer);
  exchange(c);
  c.fin(synth::Side::client);
  c.ack(synth::Side::server);
  c.data(synth::Side::server, 500);
  c.ack(synth::Side::client);
  const ConnectionSummary s = clean(c);
  CHECK(s.close_kind == CloseKind::half_closed);
  CHECK(s.active_closer == Side::client);
  CHECK(s.time_wait_holder == Side::none);
  CHECK_FALSE(s.final_ack_seen);
  CHECK_FALSE(s.time_wait_start);
  CHECK(s.client_final_state == "FIN_WAIT_2");
  CHECK(s.server_final_state == "CLOSE_WAIT");
}

TEST_CASE("summary of a simultaneous close", "[detect]") {
  Conversation c(kClient, kServer);
  exchange(c);
  c.fin(synth::Side::client);
  c.fin(synth::Side::server, test::with_ack(c.rcv_next(synth::Side::server) - 1));
  c.ack(synth::Side::client);
  c.ack(synth::Side::server);
  const ConnectionSummary s = clean(c);
  CHECK(s.close_kind == CloseKind::fin);
  CHECK(s.active_closer == Side::both);
  CHECK(s.time_wait_holder == Side::both);
  CHECK(s.final_ack_seen);
  CHECK(s.client_final_state == "TIME_WAIT");
  CHECK(s.server_final_state == "TIME_WAIT");
}

TEST_CASE("summary when the final ACK was not captured", "[detect]") {
  Conversation c(kClient, kServer);
  exchange(c);
  c.fin(synth::Side::client);
  c.ack(synth::Side::server);
  c.fin(synth::Side::server);
  c.ack(synth::Side::client, test::lost());
  const ConnectionSummary s = clean(c);  // the capture ends before anything is re-sent
  CHECK(s.close_kind == CloseKind::fin);
  CHECK(s.active_closer == Side::client);
  CHECK(s.time_wait_holder == Side::client);
  CHECK_FALSE(s.final_ack_seen);
  CHECK(s.server_final_state == "LAST_ACK");
}

TEST_CASE("summary of an abortive close, a reset after FIN, and an open connection", "[detect]") {
  SECTION("abortive") {
    Conversation c(kClient, kServer);
    exchange(c);
    c.rst(synth::Side::server);
    const auto a = test::analyze(c);
    const ConnectionSummary& s = a.summary(1);
    CHECK(s.close_kind == CloseKind::abortive);
    CHECK(s.active_closer == Side::none);
    CHECK(s.time_wait_holder == Side::none);
    CHECK_FALSE(s.final_ack_seen);
    CHECK(s.server.rsts == 1);
    CHECK(s.history == "ShADdr");
  }
  SECTION("rst after a FIN") {
    Conversation c(kClient, kServer);
    exchange(c);
    c.fin(synth::Side::client);
    c.ack(synth::Side::server);
    c.data(synth::Side::server, 10);
    c.rst(synth::Side::client);
    const auto a = test::analyze(c);
    const ConnectionSummary& s = a.summary(1);
    CHECK(s.close_kind == CloseKind::rst);
    CHECK(s.active_closer == Side::client);
    CHECK(s.time_wait_holder == Side::none);
  }
  SECTION("open at the end") {
    Conversation c(kClient, kServer);
    exchange(c);
    const ConnectionSummary s = clean(c);
    CHECK(s.close_kind == CloseKind::open_at_end);
    CHECK(s.active_closer == Side::none);
    CHECK(s.time_wait_holder == Side::none);
    CHECK(s.client_final_state == "ESTABLISHED");
  }
}

TEST_CASE("summary of a mid-stream capture", "[detect]") {
  Conversation c(kClient, kServer);
  c.syn(synth::Side::client, test::lost());
  c.syn_ack(test::lost());
  c.ack(synth::Side::client, test::lost());
  c.data(synth::Side::client, 100);
  c.ack(synth::Side::server);
  c.fin(synth::Side::server);
  c.ack(synth::Side::client);
  c.fin(synth::Side::client);
  c.ack(synth::Side::server);
  const ConnectionSummary s = clean(c);
  CHECK(s.mid_stream);
  CHECK_FALSE(s.handshake_seen);
  CHECK(s.client_port == 40000);
  CHECK(s.active_closer == Side::server);
  CHECK(s.time_wait_holder == Side::server);
}
