// tuple_reuse (detections.md §3.5): a new incarnation on a four-tuple whose previous one ended
// less than 2MSL before. Also the whole while_last_ack exchange, with the lost_final_ack
// (ended_by_reuse) and rst_after_close (reuse_rejected) it produces on the old connection.
#include <catch2/catch.hpp>

#include "support/scripted.h"

using lastack::Duration;
using lastack::Timestamp;
using lastack::findings::Confidence;
using lastack::findings::Finding;
using lastack::findings::Severity;
using lastack::synth::Conversation;
using lastack::synth::HostSpec;
using lastack::synth::Side;
using lastack::test::kT0;
using Frames = std::vector<std::uint64_t>;
namespace test = lastack::test;
using test::evidence;
using test::only;

namespace {

HostSpec client_isn(std::uint32_t isn, bool ts = false, std::uint32_t ts_start = 1000) {
  HostSpec h = test::host("10.0.0.1", 40000, isn);
  h.timestamps = ts;
  h.ts_start = ts_start;
  return h;
}
HostSpec server_isn(std::uint32_t isn, bool ts = false) {
  HostSpec h = test::host("10.0.0.2", 80, isn);
  h.timestamps = ts;
  h.ts_start = 777'000;
  return h;
}

// Ten frames: handshake, request, response, client-initiated close; frame 10 is the final ACK.
void full_close(Conversation& c) {
  c.handshake();
  c.exchange(100, 1000);
  REQUIRE(c.close(Side::client) == 10);
}

test::Analysis reuse_after(Conversation& first, Conversation& second) {
  std::vector<lastack::synth::SynthPacket> all = first.packets();
  all.insert(all.end(), second.packets().begin(), second.packets().end());
  return test::analyze(all, first.link());
}

}  // namespace

TEST_CASE("tuple_reuse rfc6191_safe: the new ISN is beyond the old sequence space", "[detect]") {
  Conversation first(client_isn(1000), server_isn(5000));
  full_close(first);
  Conversation second(client_isn(900'000), server_isn(7'000'000), kT0 + Duration::from_s(2));
  second.handshake();
  const auto a = reuse_after(first, second);
  INFO(test::describe(a.findings));
  REQUIRE(a.findings.size() == 1);
  const Finding& f = only(a, "tuple_reuse");
  CHECK(f.cause == "rfc6191_safe");
  CHECK(f.severity == Severity::info);
  CHECK(f.confidence == Confidence::confirmed);
  CHECK(f.connection_id == 2);
  CHECK(test::frame_numbers(f) == Frames{10, 11});  // old final ACK, new SYN
  CHECK(evidence<std::string>(f, "reopened_by") == "previous_active_closer");
  CHECK(evidence<std::int64_t>(f, "previous_connection") == 1);
  CHECK(evidence<std::int64_t>(f, "new_isn") == 900'000);
  CHECK(evidence<std::int64_t>(f, "old_isn") == 1000);
  CHECK(evidence<std::string>(f, "handshake") == "established");
  CHECK(evidence<double>(f, "gap_s") == Approx(2.0 - 0.009));
}

TEST_CASE("tuple_reuse unsafe: new ISN below the old sequence space, no timestamps", "[detect]") {
  Conversation first(client_isn(1'000'000), server_isn(5000));
  full_close(first);
  Conversation second(client_isn(500), server_isn(7'000'000), kT0 + Duration::from_s(2));
  second.handshake();
  const auto a = reuse_after(first, second);
  const Finding& f = only(a, "tuple_reuse");
  CHECK(f.cause == "unsafe");
  CHECK(f.severity == Severity::warning);
  CHECK(f.confidence == Confidence::confirmed);
  CHECK(test::frame_numbers(f) == Frames{10, 11});
}

TEST_CASE("tuple_reuse rfc6191_safe by timestamps when the ISN is lower", "[detect]") {
  Conversation first(client_isn(1'000'000, true, 1000), server_isn(5000, true));
  full_close(first);
  Conversation second(client_isn(500, true, 50'000), server_isn(7'000'000, true),
                      kT0 + Duration::from_s(2));
  second.handshake();
  const auto a = reuse_after(first, second);
  const Finding& f = only(a, "tuple_reuse");
  CHECK(f.cause == "rfc6191_safe");
  CHECK(f.severity == Severity::info);
  CHECK(evidence<std::int64_t>(f, "new_tsval") == 50'000);
}

TEST_CASE("tuple_reuse unsafe when the new TSval is older too", "[detect]") {
  Conversation first(client_isn(1'000'000, true, 60'000), server_isn(5000, true));
  full_close(first);
  Conversation second(client_isn(500, true, 1000), server_isn(7'000'000, true),
                      kT0 + Duration::from_s(2));
  second.handshake();
  const auto a = reuse_after(first, second);
  CHECK(only(a, "tuple_reuse").cause == "unsafe");
}

TEST_CASE("tuple_reuse after_reset: the previous connection ended by RST", "[detect]") {
  Conversation first(client_isn(1000), server_isn(5000));
  first.handshake();
  first.data(Side::client, 100);
  first.ack(Side::server);
  first.rst(Side::client);  // 6
  Conversation second(client_isn(900'000), server_isn(7'000'000), kT0 + Duration::from_s(1));
  second.handshake();
  const auto a = reuse_after(first, second);
  INFO(test::describe(a.findings));
  const Finding& f = only(a, "tuple_reuse");
  CHECK(f.cause == "after_reset");
  CHECK(f.severity == Severity::warning);
  CHECK(f.confidence == Confidence::confirmed);
  CHECK(test::frame_numbers(f) == Frames{6, 7});
  CHECK(only(a, "abortive_close").connection_id == 1);
}

TEST_CASE("tuple_reuse while_last_ack: the SYN meets the peer still in LAST_ACK", "[detect]") {
  // The client's final ACK is lost before the capture point; it reopens the four-tuple at once.
  // Linux in LAST_ACK answers the SYN with a challenge ACK in the old sequence space, the client
  // resets it (seq = that ack), and the SYN, re-sent a second later, succeeds.
  Conversation first(client_isn(1000), server_isn(5000));
  first.handshake();
  first.exchange(100, 1000);
  first.fin(Side::client);                                     // 7
  first.ack(Side::server);                                     // 8
  first.fin(Side::server);                                     // 9
  first.ack(Side::client, test::lost());                       // the final ACK
  const std::uint32_t old_ack = first.rcv_next(Side::server);  // the client's fin_seq + 1
  const Timestamp reopen = kT0 + Duration::from_s(1);
  Conversation second(client_isn(3'000'000), server_isn(8'000'000), reopen);
  second.syn(Side::client);                                   // 10
  first.at(reopen + Duration::from_ms(1)).ack(Side::server);  // 11: challenge ACK
  second.after(Duration::from_ms(2)).rst_no_ack(Side::client, test::with_seq(old_ack));  // 12
  second.after(Duration::from_s(1)).syn(Side::client, test::with_seq(3'000'000));        // 13
  second.syn_ack();                                                                      // 14
  second.ack(Side::client);                                                              // 15
  const auto all = lastack::synth::merge_by_time({&first, &second});
  const auto a = test::analyze(all, first.link());
  INFO(test::describe(a.findings));
  REQUIRE(a.findings.size() == 3);

  const Finding& reuse = only(a, "tuple_reuse");
  CHECK(reuse.cause == "while_last_ack");
  CHECK(reuse.severity == Severity::error);
  CHECK(reuse.confidence == Confidence::confirmed);
  CHECK(reuse.connection_id == 2);
  CHECK(test::frame_numbers(reuse) == Frames{9, 10});  // no final ACK: the old last packet
  CHECK(evidence<std::int64_t>(reuse, "syn_transmissions") == 2);
  CHECK(evidence<double>(reuse, "connect_latency_s") == Approx(1.004));
  REQUIRE(reuse.links.size() == 1);
  CHECK(reuse.links[0].connection_id == 1);
  CHECK(reuse.links[0].kind == "lost_final_ack");

  const Finding& lost = only(a, "lost_final_ack");
  CHECK(lost.cause == "ended_by_reuse");
  CHECK(lost.severity == Severity::error);
  CHECK(lost.confidence == Confidence::probable);
  CHECK(lost.connection_id == 1);
  CHECK(test::frame_numbers(lost) == Frames{9, 11, 12});

  const Finding& rst = only(a, "rst_after_close");
  CHECK(rst.cause == "reuse_rejected");
  CHECK(rst.severity == Severity::error);
  CHECK(rst.confidence == Confidence::confirmed);
  CHECK(rst.connection_id == 1);
  CHECK(test::frame_numbers(rst) == Frames{11, 12});

  CHECK(a.of_kind("stale_segment").empty());  // the challenge ACK and RST belong to the reuse
  CHECK(a.summary(2).handshake_seen);
  CHECK(a.summary(2).incarnation == 2);
}

TEST_CASE("not tuple_reuse: reuse after 2MSL", "[detect]") {
  Conversation first(client_isn(1000), server_isn(5000));
  full_close(first);
  SECTION("just after 2MSL") {
    Conversation second(client_isn(500), server_isn(7'000'000),
                        first.now() + Duration::from_s(60) + Duration{1});
    second.handshake();
    const auto a = reuse_after(first, second);
    INFO(test::describe(a.findings));
    CHECK(a.findings.empty());
  }
  SECTION("just before 2MSL it is one") {
    Conversation second(client_isn(500), server_isn(7'000'000), first.now() + Duration::from_s(59));
    second.handshake();
    const auto a = reuse_after(first, second);
    CHECK(only(a, "tuple_reuse").cause == "unsafe");
  }
}

TEST_CASE("not tuple_reuse: SYN retransmissions and SYN retries with a new ISN", "[detect]") {
  Conversation c(client_isn(1000), server_isn(5000));
  c.syn(Side::client);
  c.after(Duration::from_s(1)).retransmit_last(Side::client);
  c.after(Duration::from_s(2)).syn(Side::client, test::with_seq(424'242));  // syn_seq_jump
  c.syn_ack(test::with_ack(424'243));
  c.ack(Side::client);
  c.fin(Side::client);
  c.fin(Side::server);
  c.ack(Side::client);
  const auto a = test::analyze(c);
  INFO(test::describe(a.findings));
  CHECK(a.findings.empty());
  CHECK(a.summaries.size() == 1);
}

TEST_CASE("not tuple_reuse: the same source port towards another server port", "[detect]") {
  Conversation first(client_isn(1000), server_isn(5000));
  full_close(first);
  HostSpec other = server_isn(7'000'000);
  other.port = 8080;
  Conversation second(client_isn(500), other, kT0 + Duration::from_s(1));
  second.handshake();
  const auto a = reuse_after(first, second);
  INFO(test::describe(a.findings));
  CHECK(a.findings.empty());
  CHECK(a.summary(2).incarnation == 1);
}
