// Scripted conversations: sequence/ack bookkeeping, flags, frame numbers, loss, retransmission,
// timestamps and time control, checked by decoding the frames the script wrote.
#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "lastack/capture/raw_frame.h"
#include "lastack/decode/decoded_packet.h"
#include "lastack/synth/conversation.h"

using lastack::Duration;
using lastack::IpAddress;
using lastack::Timestamp;
using lastack::synth::Conversation;
using lastack::synth::Emit;
using lastack::synth::HostSpec;
using lastack::synth::Side;
namespace decode = lastack::decode;
namespace flag = decode::tcp_flag;

namespace {

// GCC's -Wmissing-field-initializers fires on partial designated initializers, so build Emits
// field by field.
Emit lost() {
  Emit e;
  e.lost = true;
  return e;
}
Emit with_seq(std::uint32_t seq) {
  Emit e;
  e.seq = seq;
  return e;
}
Emit with_flags(std::uint8_t flags) {
  Emit e;
  e.flags = flags;
  return e;
}

IpAddress ip(const char* text) {
  IpAddress a;
  REQUIRE(lastack::parse_ip(text, a));
  return a;
}

HostSpec client_spec(bool ts = false) {
  HostSpec h;
  h.ip = ip("10.0.0.1");
  h.port = 40000;
  h.isn = 1000;
  h.timestamps = ts;
  h.ts_start = 5000;
  return h;
}

HostSpec server_spec(bool ts = false) {
  HostSpec h;
  h.ip = ip("10.0.0.2");
  h.port = 80;
  h.isn = 0xFFFFFFF0u;  // wraps during the test
  h.ttl = 50;
  h.timestamps = ts;
  h.ts_start = 900000;
  return h;
}

decode::DecodedPacket packet(const Conversation& c, std::uint64_t frame_no) {
  REQUIRE(frame_no >= 1);
  REQUIRE(frame_no <= c.packets().size());
  const auto& bytes = c.packets()[frame_no - 1].bytes;
  lastack::capture::RawFrame f;
  f.link_type = lastack::synth::link_type_of(c.link());
  f.bytes = lastack::ByteView(bytes.data(), bytes.size());
  decode::DecodedPacket d;
  decode::decode_frame(f, d);
  REQUIRE(d.outcome == decode::Outcome::tcp);
  return d;
}

struct Expect {
  std::uint32_t seq;
  std::uint32_t ack;
  std::uint8_t flags;
  std::uint32_t len;
};

void check(const Conversation& c, std::uint64_t frame_no, const Expect& e) {
  INFO("frame " << frame_no);
  const auto d = packet(c, frame_no);
  CHECK(d.tcp.seq.raw() == e.seq);
  CHECK(d.tcp.ack.raw() == e.ack);
  CHECK(d.tcp.flags == e.flags);
  CHECK(d.tcp.payload_len == e.len);
}

}  // namespace

TEST_CASE("conversation: handshake, data, orderly close", "[synth]") {
  Conversation c(client_spec(), server_spec());
  CHECK(c.syn(Side::client) == 1);
  CHECK(c.syn_ack() == 2);
  CHECK(c.ack(Side::client) == 3);
  CHECK(c.data(Side::client, 100) == 4);
  CHECK(c.data(Side::server, 30) == 5);  // crosses the 2^32 wrap
  CHECK(c.ack(Side::client) == 6);
  CHECK(c.fin(Side::server) == 7);
  CHECK(c.ack(Side::client) == 8);
  CHECK(c.fin(Side::client) == 9);
  CHECK(c.ack(Side::server) == 10);
  REQUIRE(c.packets().size() == 10);

  const std::uint32_t s0 = 0xFFFFFFF0u;
  check(c, 1, {1000, 0, flag::syn, 0});
  check(c, 2, {s0, 1001, flag::syn | flag::ack, 0});
  check(c, 3, {1001, s0 + 1, flag::ack, 0});
  check(c, 4, {1001, s0 + 1, flag::psh | flag::ack, 100});
  check(c, 5, {s0 + 1, 1101, flag::psh | flag::ack, 30});
  check(c, 6, {1101, s0 + 31, flag::ack, 0});
  check(c, 7, {s0 + 31, 1101, flag::fin | flag::ack, 0});
  check(c, 8, {1101, s0 + 32, flag::ack, 0});
  check(c, 9, {1101, s0 + 32, flag::fin | flag::ack, 0});
  check(c, 10, {s0 + 32, 1102, flag::ack, 0});
  CHECK(c.next_seq(Side::client) == 1102);
  CHECK(c.next_seq(Side::server) == s0 + 32);
  CHECK(c.rcv_next(Side::client) == s0 + 32);
  CHECK(c.rcv_next(Side::server) == 1102);

  const auto syn = packet(c, 1);
  CHECK(syn.src == ip("10.0.0.1"));
  CHECK(syn.tcp.src_port == 40000);
  CHECK(syn.tcp.options.mss == 1460);
  CHECK(syn.tcp.options.sack_permitted);
  CHECK(syn.tcp.options.wscale == 7);
  CHECK_FALSE(syn.tcp.options.has_timestamps);
  const auto syn_ack = packet(c, 2);
  CHECK(syn_ack.ttl == 50);
  CHECK(syn_ack.tcp.options.has_mss);
  CHECK_FALSE(packet(c, 3).tcp.options.has_mss);
}

TEST_CASE("conversation: handshake(), exchange() and close() are the packets spelt out above",
          "[synth]") {
  Conversation c(client_spec(), server_spec());
  CHECK(c.handshake() == 3);
  CHECK(c.exchange(100, 30) == 6);
  CHECK(c.close(Side::server) == 10);
  Conversation spelt(client_spec(), server_spec());
  spelt.syn(Side::client);
  spelt.syn_ack();
  spelt.ack(Side::client);
  spelt.data(Side::client, 100);
  spelt.data(Side::server, 30);
  spelt.ack(Side::client);
  spelt.fin(Side::server);
  spelt.ack(Side::client);
  spelt.fin(Side::client);
  spelt.ack(Side::server);
  REQUIRE(c.packets().size() == spelt.packets().size());
  for (std::size_t i = 0; i < c.packets().size(); ++i) {
    INFO("frame " << i + 1);
    CHECK(c.packets()[i].bytes == spelt.packets()[i].bytes);
    CHECK(c.packets()[i].ts == spelt.packets()[i].ts);
  }
}

TEST_CASE("conversation: time steps, at() and after()", "[synth]") {
  const Timestamp start{1'000'000'000};
  Conversation c(client_spec(), server_spec(), start);
  c.syn(Side::client);
  c.syn_ack();
  c.step(Duration::from_ms(10)).ack(Side::client);
  c.after(Duration::from_s(2)).data(Side::client, 1);
  c.at(Timestamp{5'000'000'000}).ack(Side::server);
  c.ack(Side::server);
  const auto& p = c.packets();
  REQUIRE(p.size() == 6);
  CHECK(p[0].ts == start);
  CHECK(p[1].ts == start + Duration::from_ms(1));
  CHECK(p[2].ts == start + Duration::from_ms(11));
  CHECK(p[3].ts == start + Duration::from_ms(11) + Duration::from_s(2));
  CHECK(p[4].ts == Timestamp{5'000'000'000});
  CHECK(p[5].ts == Timestamp{5'010'000'000});
  CHECK(c.now() == Timestamp{5'010'000'000});
}

TEST_CASE("conversation: a lost segment is absent and not acknowledged", "[synth]") {
  Conversation c(client_spec(), server_spec());
  c.handshake();
  CHECK(c.data(Side::client, 100, lost()) == 0);
  CHECK(c.data(Side::client, 50) == 4);  // beyond the hole
  CHECK(c.ack(Side::server) == 5);
  REQUIRE(c.packets().size() == 5);
  check(c, 4, {1101, 0xFFFFFFF1u, flag::psh | flag::ack, 50});
  check(c, 5, {0xFFFFFFF1u, 1001, flag::ack, 0});  // duplicate ACK: the hole is still open
  CHECK(c.next_seq(Side::client) == 1151);

  // The verbatim retransmission of the lost segment fills the hole.
  c.retransmit_last(Side::client);  // last = the 50-byte segment: a duplicate, no progress
  CHECK(c.rcv_next(Side::server) == 1001);
  c.segment(Side::client, flag::psh | flag::ack, 100, with_seq(1001));
  CHECK(c.rcv_next(Side::server) == 1101);
  CHECK(c.next_seq(Side::client) == 1151);  // a retransmission never moves SND.NXT back
}

TEST_CASE("conversation: lost handshake packets", "[synth]") {
  Conversation c(client_spec(), server_spec());
  CHECK(c.syn(Side::client, lost()) == 0);
  CHECK(c.packets().empty());
  CHECK(c.retransmit_last(Side::client) == 1);
  check(c, 1, {1000, 0, flag::syn, 0});
  CHECK(c.syn_ack() == 2);
  check(c, 2, {0xFFFFFFF0u, 1001, flag::syn | flag::ack, 0});
}

TEST_CASE("conversation: retransmit_fin repeats the FIN's sequence number", "[synth]") {
  Conversation c(client_spec(), server_spec());
  CHECK(c.retransmit_fin(Side::client) == 0);  // no FIN yet: nothing sent
  c.handshake();
  const auto f1 = c.fin_data(Side::client, 20);
  c.data(Side::server, 5);
  const auto f2 = c.retransmit_fin(Side::client);
  check(c, f1, {1001, 0xFFFFFFF1u, flag::fin | flag::psh | flag::ack, 20});
  check(c, f2, {1001, 0xFFFFFFF6u, flag::fin | flag::psh | flag::ack, 20});
  CHECK(c.next_seq(Side::client) == 1022);
  CHECK(packet(c, f2).ip_id != packet(c, f1).ip_id);
}

TEST_CASE("conversation: retransmit_last is a byte-identical copy", "[synth]") {
  Conversation c(client_spec(true), server_spec(true));
  c.syn(Side::client);
  c.syn_ack();
  const auto a = c.data(Side::client, 10);
  const auto b = c.retransmit_last(Side::client);
  CHECK(b == a + 1);
  CHECK(c.packets()[b - 1].bytes == c.packets()[a - 1].bytes);
  CHECK(c.packets()[b - 1].ts > c.packets()[a - 1].ts);
  // The IP id counter did not move for the copy.
  const auto next = c.ack(Side::client);
  CHECK(packet(c, next).ip_id == packet(c, a).ip_id + 1);
}

TEST_CASE("conversation: RST with and without ACK", "[synth]") {
  Conversation c(client_spec(), server_spec());
  c.handshake();
  const auto r1 = c.rst(Side::server);
  const auto r2 = c.rst_no_ack(Side::client);
  check(c, r1, {0xFFFFFFF1u, 1001, flag::rst | flag::ack, 0});
  check(c, r2, {1001, 0, flag::rst, 0});
  CHECK(c.next_seq(Side::server) == 0xFFFFFFF1u);  // RST occupies no sequence space
}

TEST_CASE("conversation: overrides of seq, ack, flags and ip_id", "[synth]") {
  Conversation c(client_spec(), server_spec());
  c.syn(Side::client);
  c.syn_ack();
  Emit all;
  all.seq = 5;
  all.ack = 6;
  all.flags = flag::ack | flag::urg;
  all.ip_id = 777;
  const auto f = c.ack(Side::client, all);
  check(c, f, {5, 6, flag::ack | flag::urg, 0});
  CHECK(packet(c, f).ip_id == 777);
  const auto g = c.data(Side::client, 10, with_flags(flag::psh));  // ACK off: ack field 0
  check(c, g, {1001, 0, flag::psh, 10});
  const auto h = c.segment(Side::server, flag::fin, 0);
  check(c, h, {0xFFFFFFF1u, 0, flag::fin, 0});
  CHECK(c.next_seq(Side::server) == 0xFFFFFFF2u);
}

TEST_CASE("conversation: IP ids count per host", "[synth]") {
  Conversation c(client_spec(), server_spec());
  c.handshake();
  c.data(Side::client, 1, lost());
  c.data(Side::client, 1);
  CHECK(packet(c, 1).ip_id == 1);
  CHECK(packet(c, 2).ip_id == 1);
  CHECK(packet(c, 3).ip_id == 2);
  CHECK(packet(c, 4).ip_id == 4);  // the lost packet used id 3
}

TEST_CASE("conversation: timestamps advance with capture time and echo the peer", "[synth]") {
  Conversation c(client_spec(true), server_spec(true));
  c.syn(Side::client);
  c.syn_ack();
  c.after(Duration::from_ms(250)).ack(Side::client);
  const auto syn = packet(c, 1).tcp.options;
  const auto syn_ack = packet(c, 2).tcp.options;
  const auto ack = packet(c, 3).tcp.options;
  REQUIRE(syn.has_timestamps);
  CHECK(syn.ts_val == 5000);
  CHECK(syn.ts_ecr == 0);
  CHECK(syn_ack.ts_val == 900001);
  CHECK(syn_ack.ts_ecr == 5000);
  CHECK(ack.ts_val == 5251);
  CHECK(ack.ts_ecr == 900001);

  // A lost segment's TSval is never echoed.
  c.data(Side::server, 10, lost());
  const auto a2 = c.ack(Side::client);
  CHECK(packet(c, a2).tcp.options.ts_ecr == 900001);
}

TEST_CASE("conversation: IPv6 over every link, and merge_by_time", "[synth]") {
  HostSpec a = client_spec();
  HostSpec b = server_spec();
  a.ip = ip("2001:db8::1");
  b.ip = ip("2001:db8::2");
  for (const auto link : {lastack::synth::Link::ethernet, lastack::synth::Link::linux_sll,
                          lastack::synth::Link::linux_sll2, lastack::synth::Link::raw_ip,
                          lastack::synth::Link::null_loopback}) {
    Conversation c(a, b, Timestamp{0}, link);
    c.syn(Side::client);
    const auto d = packet(c, 1);
    CHECK(d.ip_version == 6);
    CHECK(d.dst == b.ip);
  }

  Conversation x(client_spec(), server_spec(), Timestamp{100});
  Conversation y(client_spec(), server_spec(), Timestamp{100});
  x.step(Duration{10});
  y.step(Duration{4});
  x.syn(Side::client);  // 100
  x.syn_ack();          // 110
  y.syn(Side::client);  // 100
  y.syn_ack();          // 104
  y.ack(Side::client);  // 108
  const auto merged = lastack::synth::merge_by_time({&x, &y});
  REQUIRE(merged.size() == 5);
  std::vector<std::int64_t> times;
  for (const auto& p : merged) times.push_back(p.ts.ns);
  CHECK(times == std::vector<std::int64_t>{100, 100, 104, 108, 110});
  CHECK(merged[0].bytes == x.packets()[0].bytes);  // stable: x before y at equal times
  CHECK(merged[1].bytes == y.packets()[0].bytes);
}
