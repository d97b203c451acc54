// fin_retransmit (detections.md §3.2): one finding per re-sent FIN sequence, with why.
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
using test::evidence;
using test::only;

namespace {

const HostSpec kClient = test::host("10.0.0.1", 40000, 1000);
const HostSpec kServer = test::host("10.0.0.2", 80, 5000);

// Frames 1-4: handshake and a request.
void established(Conversation& c) {
  c.handshake();
  c.data(Side::client, 100);
}

}  // namespace

TEST_CASE("fin_retransmit unanswered: nothing came back after the first FIN", "[detect]") {
  Conversation c(kClient, kServer);
  established(c);
  c.ack(Side::server);                                           // 5
  c.fin(Side::client);                                           // 6
  c.after(Duration::from_ms(200)).retransmit_fin(Side::client);  // 7
  c.after(Duration::from_ms(400)).retransmit_fin(Side::client);  // 8
  c.after(Duration::from_ms(800)).retransmit_fin(Side::client);  // 9
  const auto a = test::analyze(c);
  INFO(test::describe(a.findings));
  REQUIRE(a.findings.size() == 1);
  const Finding& f = only(a, "fin_retransmit");
  CHECK(f.cause == "unanswered");
  CHECK(f.severity == Severity::warning);
  CHECK(f.confidence == Confidence::confirmed);
  CHECK(test::frame_numbers(f) == Frames{6, 7, 8, 9});
  CHECK(evidence<std::int64_t>(f, "transmissions") == 4);
  CHECK(evidence<std::vector<double>>(f, "intervals_s") == std::vector<double>{0.2, 0.4, 0.8});
  CHECK(evidence<std::vector<double>>(f, "backoff") == std::vector<double>{2.0, 2.0});
  CHECK(evidence<bool>(f, "answered") == false);
  CHECK(evidence<std::string>(f, "sender") == "client");
  CHECK(f.ts == c.now() + Duration::from_ms(-1200));  // the first retransmission
}

TEST_CASE("fin_retransmit fin_not_acknowledged: the FIN was lost after the capture point",
          "[detect]") {
  Conversation c(kClient, kServer);
  established(c);
  c.ack(Side::server);  // 5
  const std::uint32_t fin_seq = c.next_seq(Side::client);
  c.fin(Side::client);                                 // 6: never reaches the server
  c.data(Side::server, 500, test::with_ack(fin_seq));  // 7: its ACK does not cover the FIN
  c.after(Duration::from_ms(300)).retransmit_fin(Side::client);  // 8
  c.ack(Side::server);                                           // 9
  const auto a = test::analyze(c);
  INFO(test::describe(a.findings));
  const Finding& f = only(a, "fin_retransmit");
  CHECK(f.cause == "fin_not_acknowledged");
  CHECK(f.severity == Severity::info);  // once, then answered
  CHECK(f.confidence == Confidence::confirmed);
  CHECK(test::frame_numbers(f) == Frames{6, 8, 9});
  CHECK(evidence<bool>(f, "answered"));
  CHECK(a.of_kind("lost_final_ack").empty());
}

TEST_CASE("fin_retransmit warning when re-sent more than once even if finally answered",
          "[detect]") {
  Conversation c(kClient, kServer);
  established(c);
  c.ack(Side::server);
  const std::uint32_t fin_seq = c.next_seq(Side::client);
  c.fin(Side::client);                                           // 6
  c.data(Side::server, 10, test::with_ack(fin_seq));             // 7
  c.after(Duration::from_ms(300)).retransmit_fin(Side::client);  // 8
  c.after(Duration::from_ms(600)).retransmit_fin(Side::client);  // 9
  c.ack(Side::server);                                           // 10
  const auto a = test::analyze(c);
  const Finding& f = only(a, "fin_retransmit");
  CHECK(f.cause == "fin_not_acknowledged");
  CHECK(f.severity == Severity::warning);
  CHECK(test::frame_numbers(f) == Frames{6, 8, 9, 10});
}

TEST_CASE("fin_retransmit final_ack_lost references lost_final_ack", "[detect]") {
  Conversation c(kClient, kServer);
  established(c);
  c.ack(Side::server);                                           // 5
  c.fin(Side::client);                                           // 6
  c.ack(Side::server);                                           // 7
  c.fin(Side::server);                                           // 8
  c.ack(Side::client);                                           // 9
  c.after(Duration::from_ms(200)).retransmit_fin(Side::server);  // 10
  c.ack(Side::client);                                           // 11
  const auto a = test::analyze(c);
  const Finding& f = only(a, "fin_retransmit");
  CHECK(f.cause == "final_ack_lost");
  CHECK(f.severity == Severity::info);
  CHECK(test::frame_numbers(f) == Frames{8, 10, 11});
  REQUIRE(f.links.size() == 1);
  CHECK(f.links[0].kind == "lost_final_ack");
  CHECK(only(a, "lost_final_ack").cause == "reacked");
}

TEST_CASE("fin_retransmit: one finding per FIN sequence, for each side", "[detect]") {
  Conversation c(kClient, kServer);
  established(c);
  c.ack(Side::server);
  c.fin(Side::client);                                           // 6
  c.after(Duration::from_ms(300)).retransmit_fin(Side::client);  // 7
  c.fin(Side::server);                                           // 8: FIN+ACK
  c.after(Duration::from_ms(300)).retransmit_fin(Side::server);  // 9
  c.ack(Side::client);                                           // 10
  const auto a = test::analyze(c);
  INFO(test::describe(a.findings));
  const auto fs = a.of_kind("fin_retransmit");
  REQUIRE(fs.size() == 2);
  CHECK(evidence<std::string>(*fs[0], "sender") == "client");
  CHECK(test::frame_numbers(*fs[0]) == Frames{6, 7, 8});
  CHECK(evidence<std::string>(*fs[1], "sender") == "server");
  CHECK(test::frame_numbers(*fs[1]) == Frames{8, 9, 10});
}

TEST_CASE("not fin_retransmit: a duplicate capture of the FIN", "[detect]") {
  Conversation c(kClient, kServer);
  established(c);
  c.ack(Side::server);
  c.fin(Side::client);
  c.after(Duration::from_ms(0)).retransmit_last(Side::client);
  c.ack(Side::server);
  c.fin(Side::server);
  c.ack(Side::client);
  const auto a = test::analyze(c);
  INFO(test::describe(a.findings));
  CHECK(a.findings.empty());
}

TEST_CASE("not fin_retransmit: a FIN at another fin_seq (data sent in between)", "[detect]") {
  Conversation c(kClient, kServer);
  established(c);
  c.ack(Side::server);
  const std::uint32_t first_fin = c.next_seq(Side::client);
  c.fin(Side::client);                                      // 6: FIN at first_fin
  c.fin_data(Side::client, 20, test::with_seq(first_fin));  // 7: FIN moved to first_fin + 20
  c.ack(Side::server);
  c.fin(Side::server);
  c.ack(Side::client);
  const auto a = test::analyze(c);
  INFO(test::describe(a.findings));
  CHECK(a.of_kind("fin_retransmit").empty());
  CHECK(a.of_kind("lost_final_ack").empty());
}

TEST_CASE("a FIN at another fin_seq is reported as an info anomaly (fin_seq_changed)", "[detect]") {
  // detections.md §3.2: a FIN whose fin_seq differs from an earlier FIN of the same direction
  // is not a retransmission but "an anomaly worth an info": its own kind, fin_seq_changed.
  Conversation c(kClient, kServer);
  established(c);
  c.ack(Side::server);
  const std::uint32_t first_fin = c.next_seq(Side::client);
  c.fin(Side::client);
  c.fin_data(Side::client, 20, test::with_seq(first_fin));
  c.ack(Side::server);
  c.fin(Side::server);
  c.ack(Side::client);
  const auto a = test::analyze(c);
  INFO(test::describe(a.findings));
  bool reported = false;
  for (const Finding& f : a.findings) {
    if (f.kind == "fin_seq_changed" && f.cause == "data_after_fin" &&
        f.severity == Severity::info) {
      reported = true;
    }
    CHECK(f.kind != "fin_retransmit");
  }
  CHECK(reported);
}
