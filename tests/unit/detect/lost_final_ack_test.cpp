// lost_final_ack (detections.md §3.1): the passive closer re-sends its FIN (or is still in
// LAST_ACK when a new SYN comes) because the active closer's final ACK never reached it.
#include <catch2/catch.hpp>

#include "support/scripted.h"

using lastack::Duration;
using lastack::findings::Confidence;
using lastack::findings::Finding;
using lastack::findings::Severity;
using lastack::synth::Conversation;
using lastack::synth::HostSpec;
using lastack::synth::Side;
using Frames = std::vector<std::uint64_t>;
namespace test = lastack::test;
using test::only;

namespace {

const HostSpec kClient = test::host("10.0.0.1", 40000, 1000);
const HostSpec kServer = test::host("10.0.0.2", 80, 5000);

// Frames 1-9: handshake, request, response, the client's FIN (7), the server's ACK (8) and FIN
// (9). The caller continues with the client's final ACK.
void up_to_passive_fin(Conversation& c) {
  c.handshake();
  c.exchange(100, 1000);
  c.fin(Side::client);
  c.ack(Side::server);
  REQUIRE(c.fin(Side::server) == 9);
}

}  // namespace

TEST_CASE("lost_final_ack reacked, confirmed: the final ACK was captured, the FIN came again",
          "[detect]") {
  Conversation c(kClient, kServer);
  up_to_passive_fin(c);
  c.ack(Side::client);                                           // 10: final ACK, lost later
  c.after(Duration::from_ms(300)).retransmit_fin(Side::server);  // 11
  c.ack(Side::client);                                           // 12: TIME_WAIT re-ACKs
  const auto a = test::analyze(c);
  INFO(test::describe(a.findings));
  REQUIRE(a.findings.size() == 2);

  const Finding& f = only(a, "lost_final_ack");
  CHECK(f.cause == "reacked");
  CHECK(f.severity == Severity::warning);
  CHECK(f.confidence == Confidence::confirmed);
  CHECK(test::frame_numbers(f) == Frames{9, 10, 11, 12});
  CHECK(f.ts == c.now() + Duration::from_ms(-1));  // the retransmission
  CHECK(f.connection_id == 1);

  const Finding& r = only(a, "fin_retransmit");
  CHECK(r.cause == "final_ack_lost");
  CHECK(r.severity == Severity::info);
  CHECK(r.confidence == Confidence::confirmed);
  CHECK(test::frame_numbers(r) == Frames{9, 11, 12});
}

TEST_CASE("lost_final_ack probable: no final ACK captured, no gap", "[detect]") {
  Conversation c(kClient, kServer);
  up_to_passive_fin(c);
  c.ack(Side::client, test::lost());                             // lost before the capture point
  c.after(Duration::from_ms(300)).retransmit_fin(Side::server);  // 10
  c.ack(Side::client);                                           // 11
  const auto a = test::analyze(c);
  const Finding& f = only(a, "lost_final_ack");
  CHECK(f.cause == "reacked");
  CHECK(f.severity == Severity::warning);
  CHECK(f.confidence == Confidence::probable);
  CHECK(test::frame_numbers(f) == Frames{9, 10, 11});
  CHECK(only(a, "fin_retransmit").cause == "final_ack_lost");
}

TEST_CASE("lost_final_ack reset: the active closer kept no TIME_WAIT and answers with RST",
          "[detect]") {
  Conversation c(kClient, kServer);
  up_to_passive_fin(c);
  c.ack(Side::client);                                           // 10
  c.after(Duration::from_ms(300)).retransmit_fin(Side::server);  // 11
  c.rst_no_ack(Side::client);                                    // 12: seq = ack of the FIN
  const auto a = test::analyze(c);
  INFO(test::describe(a.findings));
  CHECK(a.findings.size() == 3);

  const Finding& f = only(a, "lost_final_ack");
  CHECK(f.cause == "reset");
  CHECK(f.severity == Severity::error);
  CHECK(f.confidence == Confidence::confirmed);
  CHECK(test::frame_numbers(f) == Frames{9, 10, 11, 12});
  REQUIRE(f.links.size() == 2);
  CHECK(f.links[0].kind == "fin_retransmit");
  CHECK(f.links[1].kind == "rst_after_close");

  const Finding& r = only(a, "rst_after_close");
  CHECK(r.cause == "no_time_wait");
  CHECK(r.severity == Severity::error);
  CHECK(test::frame_numbers(r) == Frames{11, 12});

  const Finding& t = only(a, "fin_retransmit");
  CHECK(t.cause == "final_ack_lost");
  CHECK(t.severity == Severity::warning);  // the retransmission was never acknowledged
  CHECK(test::frame_numbers(t) == Frames{9, 11});
}

TEST_CASE("lost_final_ack unresolved: the capture ends with the passive side still re-sending",
          "[detect]") {
  Conversation c(kClient, kServer);
  up_to_passive_fin(c);
  c.ack(Side::client);                                           // 10
  c.after(Duration::from_ms(300)).retransmit_fin(Side::server);  // 11
  c.after(Duration::from_ms(600)).retransmit_fin(Side::server);  // 12
  const auto a = test::analyze(c);
  const Finding& f = only(a, "lost_final_ack");
  CHECK(f.cause == "unresolved");
  CHECK(f.severity == Severity::warning);
  CHECK(f.confidence == Confidence::confirmed);
  CHECK(test::frame_numbers(f) == Frames{9, 10, 11, 12});
  const Finding& t = only(a, "fin_retransmit");
  CHECK(t.cause == "final_ack_lost");
  CHECK(t.severity == Severity::warning);
  CHECK(test::frame_numbers(t) == Frames{9, 11, 12});
}

TEST_CASE("lost_final_ack with the client as passive closer", "[detect]") {
  Conversation c(kClient, kServer);
  c.handshake();
  c.fin(Side::server);                                           // 4
  c.ack(Side::client);                                           // 5
  c.fin(Side::client);                                           // 6
  c.ack(Side::server);                                           // 7
  c.after(Duration::from_ms(250)).retransmit_fin(Side::client);  // 8
  c.ack(Side::server);                                           // 9
  const auto a = test::analyze(c);
  const Finding& f = only(a, "lost_final_ack");
  CHECK(f.cause == "reacked");
  CHECK(f.confidence == Confidence::confirmed);
  CHECK(test::frame_numbers(f) == Frames{6, 7, 8, 9});
  bool passive_is_client = false;
  for (const auto& [name, value] : f.evidence) {
    if (name == "passive_closer") passive_is_client = std::get<std::string>(value) == "client";
  }
  CHECK(passive_is_client);
}

TEST_CASE("not lost_final_ack: the passive FIN itself never arrived (fin_not_acknowledged)",
          "[detect]") {
  Conversation c(kClient, kServer);
  up_to_passive_fin(c);  // 8 and 9 are captured but lost after the capture point
  const std::uint32_t server_fin = c.next_seq(Side::server) - 1;
  // The client never saw them: it re-sends its FIN, acking only up to the server's FIN.
  c.after(Duration::from_ms(300)).retransmit_fin(Side::client, test::with_ack(server_fin));  // 10
  c.ack(Side::server);                                                                       // 11
  c.after(Duration::from_ms(100)).retransmit_fin(Side::server);                              // 12
  c.ack(Side::client);                                                                       // 13
  const auto a = test::analyze(c);
  INFO(test::describe(a.findings));
  CHECK(a.of_kind("lost_final_ack").empty());
  const auto rtx = a.of_kind("fin_retransmit");
  REQUIRE(rtx.size() == 2);
  const Finding& server = *rtx[1];
  CHECK(server.cause == "fin_not_acknowledged");
  CHECK(server.severity == Severity::info);
  CHECK(test::frame_numbers(server) == Frames{9, 12, 13});
}

TEST_CASE("not lost_final_ack: a FIN re-sent 10 ms later is not a timeout retransmission",
          "[detect]") {
  Conversation c(kClient, kServer);
  up_to_passive_fin(c);
  c.ack(Side::client);                                         // 10
  c.after(Duration::from_ms(9)).retransmit_fin(Side::server);  // 11: 10 ms after frame 9
  c.ack(Side::client);                                         // 12
  const auto a = test::analyze(c);
  INFO(test::describe(a.findings));
  CHECK(a.of_kind("lost_final_ack").empty());
  // Still the same FIN sent twice.
  CHECK(a.of_kind("fin_retransmit").size() == 1);
}

TEST_CASE("not lost_final_ack: a duplicate capture of the FIN", "[detect]") {
  Conversation c(kClient, kServer);
  up_to_passive_fin(c);
  c.after(Duration{200'000}).retransmit_last(Side::server);  // 10: same frame 0.2 ms later
  c.ack(Side::client);                                       // 11
  const auto a = test::analyze(c);
  INFO(test::describe(a.findings));
  CHECK(a.findings.empty());
  CHECK(a.summary(1).final_ack_seen);
}

TEST_CASE("not lost_final_ack: no final ACK captured but the active side's stream has a gap",
          "[detect]") {
  // Without the final ACK the verdict rests on "nothing was lost before the capture point";
  // a gap in the client's stream says the capture misses its packets.
  Conversation c(kClient, kServer);
  c.handshake();
  c.data(Side::client, 100, test::lost());
  c.data(Side::client, 100);  // 4: starts beyond anything seen
  c.ack(Side::server);
  c.fin(Side::client);
  c.ack(Side::server);
  c.fin(Side::server);  // 8
  c.ack(Side::client, test::lost());
  c.after(Duration::from_ms(300)).retransmit_fin(Side::server);
  c.ack(Side::client);
  const auto a = test::analyze(c);
  INFO(test::describe(a.findings));
  CHECK(a.of_kind("lost_final_ack").empty());
}
