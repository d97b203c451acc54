// stale_segment (detections.md §3.6): after incarnation N+1 began, a segment that fits only
// incarnation N arrives.
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
HostSpec server_isn(std::uint32_t isn, bool ts = false, std::uint32_t ts_start = 1000) {
  HostSpec h = test::host("10.0.0.2", 80, isn);
  h.timestamps = ts;
  h.ts_start = ts_start;
  return h;
}

// Incarnation N (client ISN 1000, server 5000): the client sends three 100-byte segments at
// 1001, 1101 and 1201, the server 100 bytes; client-initiated close. 13 frames.
void old_connection(Conversation& c) {
  c.handshake();
  c.data(Side::client, 100);
  c.data(Side::client, 100);
  c.data(Side::client, 100);
  c.ack(Side::server);
  c.data(Side::server, 100);
  c.ack(Side::client);
  c.fin(Side::client);
  c.ack(Side::server);
  c.fin(Side::server);
  REQUIRE(c.ack(Side::client) == 13);
}

const Timestamp kReopen = kT0 + Duration::from_s(2);

test::Analysis run(const Conversation& first, const Conversation& second) {
  return test::analyze(lastack::synth::merge_by_time({&first, &second}), first.link());
}

}  // namespace

TEST_CASE("stale_segment stale_data critical: old data inside the new window with a good ack",
          "[detect]") {
  // N+1 starts at client ISN 1100: the old segment at 1201 lies in its window, and its ack
  // (5102) is just below the new server ISN 5200, so it does not fit N+1 but is acceptable.
  Conversation first(client_isn(1000), server_isn(5000));
  old_connection(first);
  Conversation second(client_isn(1100), server_isn(5200), kReopen);
  second.handshake();                                                                       // 14-16
  first.at(kReopen + Duration::from_ms(50)).data(Side::client, 100, test::with_seq(1201));  // 17
  const auto a = run(first, second);
  const Finding& f = only(a, "stale_segment");
  CHECK(f.cause == "stale_data");
  CHECK(f.severity == Severity::critical);
  CHECK(f.confidence == Confidence::confirmed);
  CHECK(f.connection_id == 2);
  CHECK(test::frame_numbers(f) == Frames{17});
  CHECK(evidence<bool>(f, "in_window"));
  CHECK(evidence<bool>(f, "ack_acceptable"));
  CHECK_FALSE(evidence<bool>(f, "paws_reject"));
  CHECK(evidence<std::int64_t>(f, "payload_bytes") == 100);
  CHECK(evidence<std::int64_t>(f, "seq") == 1201);
  CHECK(evidence<std::string>(f, "reaction") == "none");
}

TEST_CASE("stale_segment stale_data warning: in the window but PAWS drops it", "[detect]") {
  Conversation first(client_isn(1000, true, 1000), server_isn(5000, true, 1000));
  old_connection(first);
  Conversation second(client_isn(1100, true, 900'000), server_isn(5200, true, 900'000), kReopen);
  second.handshake();
  first.at(kReopen + Duration::from_ms(50)).data(Side::client, 100, test::with_seq(1201));  // 17
  second.after(Duration::from_ms(60)).ack(Side::server);                                    // 18
  const auto a = run(first, second);
  const Finding& f = only(a, "stale_segment");
  CHECK(f.cause == "stale_data");
  CHECK(f.severity == Severity::warning);
  CHECK(f.confidence == Confidence::confirmed);
  CHECK(test::frame_numbers(f) == Frames{17});
  CHECK(evidence<bool>(f, "in_window"));
  CHECK(evidence<bool>(f, "paws_reject"));
  CHECK(evidence<std::string>(f, "reaction") == "ack");
}

TEST_CASE("stale_segment stale_fin: the old server re-sends its FIN into the new connection",
          "[detect]") {
  Conversation first(client_isn(1000), server_isn(5000));
  old_connection(first);
  Conversation second(client_isn(900'000), server_isn(7'000'000), kReopen);
  second.handshake();                                                      // 14-16
  first.at(kReopen + Duration::from_ms(10)).retransmit_fin(Side::server);  // 17
  second.after(Duration::from_ms(20)).data(Side::client, 10);              // 18
  const auto a = run(first, second);
  const Finding& f = only(a, "stale_segment");
  CHECK(f.cause == "stale_fin");
  CHECK(f.severity == Severity::warning);
  CHECK(f.confidence == Confidence::confirmed);
  CHECK(test::frame_numbers(f) == Frames{17});
  CHECK_FALSE(evidence<bool>(f, "in_window"));
  CHECK(evidence<std::string>(f, "reaction") == "data");
}

TEST_CASE("stale_segment stale_ack: the old TIME_WAIT side re-ACKs", "[detect]") {
  Conversation first(client_isn(1000), server_isn(5000));
  old_connection(first);
  Conversation second(client_isn(900'000), server_isn(7'000'000), kReopen);
  second.handshake();
  first.at(kReopen + Duration::from_ms(10)).ack(Side::client);  // 17
  const auto a = run(first, second);
  const Finding& f = only(a, "stale_segment");
  CHECK(f.cause == "stale_ack");
  CHECK(f.severity == Severity::warning);
  CHECK(test::frame_numbers(f) == Frames{17});
}

TEST_CASE("stale_segment stale_rst: error when the new connection goes silent after it",
          "[detect]") {
  Conversation first(client_isn(1000), server_isn(5000));
  old_connection(first);
  Conversation second(client_isn(900'000), server_isn(7'000'000), kReopen);
  second.handshake();
  second.data(Side::client, 10);                                       // 17
  first.at(kReopen + Duration::from_ms(10)).rst_no_ack(Side::client);  // 18
  SECTION("silent after") {
    const auto a = run(first, second);
    const Finding& f = only(a, "stale_segment");
    CHECK(f.cause == "stale_rst");
    CHECK(f.severity == Severity::error);
    CHECK(test::frame_numbers(f) == Frames{18});
  }
  SECTION("the server goes on") {
    second.after(Duration::from_ms(20)).data(Side::server, 10);  // 19
    const auto a = run(first, second);
    const Finding& f = only(a, "stale_segment");
    CHECK(f.cause == "stale_rst");
    CHECK(f.severity == Severity::warning);
    CHECK(evidence<std::string>(f, "reaction") == "data");
  }
}

TEST_CASE("not stale_segment: keep-alives and the new connection's own SYN retransmission",
          "[detect]") {
  Conversation first(client_isn(1000), server_isn(5000));
  old_connection(first);
  Conversation second(client_isn(900'000), server_isn(7'000'000), kReopen);
  second.syn(Side::client);
  second.after(Duration::from_s(1)).syn(Side::client, test::with_seq(900'000));
  second.syn_ack();
  second.after(Duration::from_ms(200)).retransmit_last(Side::server);  // SYN-ACK again
  second.ack(Side::client);
  second.data(Side::client, 100);
  second.ack(Side::server);
  const std::uint32_t next = second.next_seq(Side::client);
  second.after(Duration::from_s(10)).ack(Side::client, test::with_seq(next - 1));
  second.ack(Side::server);
  second.after(Duration::from_s(10)).data(Side::client, 1, test::with_seq(next - 1));
  second.ack(Side::server);
  const auto a = run(first, second);
  INFO(test::describe(a.findings));
  CHECK(a.of_kind("stale_segment").empty());
  CHECK(a.summaries.size() == 2);
}

TEST_CASE("not stale_segment: within 1 ms of the new SYN (capture reordering)", "[detect]") {
  Conversation first(client_isn(1000), server_isn(5000));
  old_connection(first);
  Conversation second(client_isn(900'000), server_isn(7'000'000), kReopen);
  second.handshake();
  first.at(kReopen + Duration{500'000}).ack(Side::client);
  const auto a = run(first, second);
  INFO(test::describe(a.findings));
  CHECK(a.of_kind("stale_segment").empty());
}

TEST_CASE("not stale_segment: the new incarnation's ISN is unknown (its SYN not captured)",
          "[detect]") {
  Conversation first(client_isn(1000), server_isn(5000));
  old_connection(first);
  Conversation second(client_isn(900'000), server_isn(7'000'000), kReopen);
  second.syn(Side::client, test::lost());
  second.syn_ack();
  second.ack(Side::client);
  first.at(kReopen + Duration::from_ms(10)).retransmit_fin(Side::server);
  const auto a = run(first, second);
  INFO(test::describe(a.findings));
  CHECK(a.summaries.size() == 2);
  CHECK(a.summary(2).incarnation == 2);
  CHECK(a.of_kind("stale_segment").empty());
}

TEST_CASE("stale_segment: a window judged without the SYNs' window scale is probable",
          "[detect][snaplen]") {
  // Timestamps off. N: the client sends 80 kB (ISN 1000). N+1 reopens at client ISN 2000,
  // inside N's space, with IP ids far from N's. A copy of N's segment at 76001 arrives: 74,000
  // bytes beyond the new SND.NXT, inside the scaled window (64240 << 7), outside an unscaled
  // one. With the SYNs whole it is in the window: critical. With the SYNs cut by the snaplen
  // before their window scale option, the window looks unscaled: not in the window, warning,
  // but that verdict rests on bytes the capture lost.
  HostSpec c1 = client_isn(1000);
  HostSpec s1 = server_isn(5000);
  Conversation first(c1, s1);
  first.handshake();
  std::uint64_t old = 0;
  for (int i = 0; i < 80; ++i) {
    const std::uint64_t n = first.data(Side::client, 1000);
    if (first.next_seq(Side::client) == 76'001 + 1000) old = n;
  }
  REQUIRE(old != 0);
  first.ack(Side::server);
  first.close(Side::client);
  HostSpec c2 = client_isn(2000);
  HostSpec s2 = server_isn(5200);
  c2.ip_id_start = 30'000;
  s2.ip_id_start = 40'000;
  Conversation second(c2, s2, kReopen);
  second.handshake();
  second.data(Side::server, 10);  // its first window after the SYN-ACK is a scaled one
  second.ack(Side::client);
  std::vector<lastack::synth::SynthPacket> packets = first.packets();
  packets.insert(packets.end(), second.packets().begin(), second.packets().end());
  lastack::synth::SynthPacket copy = first.packets().at(old - 1);
  copy.ts = second.now() + Duration::from_ms(5);
  packets.push_back(copy);
  const std::uint64_t copy_frame = packets.size();

  SECTION("SYNs whole") {
    const auto a = test::analyze(packets, first.link());
    const Finding& f = only(a, "stale_segment");
    CHECK(f.severity == Severity::critical);
    CHECK(f.confidence == Confidence::confirmed);
    CHECK(test::frame_numbers(f) == Frames{copy_frame});
    CHECK(evidence<bool>(f, "in_window"));
  }
  SECTION("SYNs cut before their window scale") {
    for (auto& p : packets) {
      if (p.bytes.size() > 54 && (p.bytes[14 + 20 + 13] & 0x02) != 0) {  // SYN, SYN-ACK
        p.orig_len = static_cast<std::uint32_t>(p.bytes.size());
        p.bytes.resize(54);
      }
    }
    const auto a = test::analyze(packets, first.link());
    const Finding& f = only(a, "stale_segment");
    CHECK(f.severity == Severity::warning);
    CHECK(f.confidence == Confidence::probable);
    CHECK(test::frame_numbers(f) == Frames{copy_frame});
    CHECK_FALSE(evidence<bool>(f, "in_window"));
    CHECK(evidence<bool>(f, "snaplen_cut"));
  }
}
