// Where traffic was seen and how much of it was kept (issue #4), through the real pipeline:
// (1) VLANs and pcapng interfaces: the same four-tuple on two VLANs is two connections; on two
//     interfaces it is one connection when it is the same traffic seen twice, two when it is
//     different traffic;
// (2) snaplen cuts: a verdict that rests on TCP options the capture did not keep is reported
//     with lower confidence and `snaplen_cut: true`, and only then.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "lastack/pipeline/analyze.h"
#include "lastack/sink/sinks.h"
#include "lastack/synth/capture_writer.h"
#include "lastack/synth/conversation.h"
#include "support/json_schema.h"
#include "support/scripted.h"

namespace fs = std::filesystem;
namespace synth = lastack::synth;
using lastack::Duration;
using lastack::Timestamp;
using nlohmann::json;
using synth::Conversation;
using synth::HostSpec;
using synth::Side;
using synth::SynthPacket;

namespace {

std::string scratch(const std::string& name) {
  const char* env = std::getenv("LASTACK_TEST_TMP");
  const fs::path dir =
      fs::path(env != nullptr ? env : fs::temp_directory_path().string()) / "inputs_scope_test";
  fs::create_directories(dir);
  return (dir / name).string();
}

// Writes the capture, runs lastack::pipeline::analyze on it (every connection in the report),
// checks the JSON against the schema and returns it.
json analyze_bytes(const std::string& name, const std::vector<std::uint8_t>& bytes) {
  const std::string path = scratch(name);
  REQUIRE(synth::write_file(path, bytes));
  lastack::pipeline::Options o;
  o.inputs = {path};
  o.settings.all_connections = true;
  auto r = lastack::pipeline::analyze(o);
  REQUIRE(r.ok());
  const std::string text = lastack::sink::to_json(r.value());
  const std::vector<std::string> errors = lastack::test::validate_report(text);
  INFO((errors.empty() ? std::string() : errors.front()));
  CHECK(errors.empty());
  json report = json::parse(text);
  REQUIRE(report["inputs"][0]["status"] == "ok");
  return report;
}

json analyze_pcap(const std::string& name, const std::vector<SynthPacket>& packets,
                  std::uint32_t snaplen = 262144) {
  synth::PcapOptions o;
  o.snaplen = snaplen;
  return analyze_bytes(name, synth::write_pcap(packets, o));
}

std::vector<SynthPacket> by_time(std::vector<SynthPacket> packets) {
  std::stable_sort(packets.begin(), packets.end(),
                   [](const SynthPacket& a, const SynthPacket& b) { return a.ts < b.ts; });
  return packets;
}

std::vector<SynthPacket> concat(std::vector<SynthPacket> a, const std::vector<SynthPacket>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// A whole connection with a clean close, client first (RFC 9293 §3.6).
void clean_connection(Conversation& c) {
  c.handshake();
  c.exchange(200, 1200);
  c.close(Side::client);
}

HostSpec host(const char* ip, std::uint16_t port, std::uint32_t isn, std::uint16_t ip_id = 1) {
  HostSpec h = lastack::test::host(ip, port, isn);
  h.ip_id_start = ip_id;
  return h;
}

std::vector<std::string> finding_names(const json& report) {
  std::vector<std::string> out;
  for (const json& f : report["findings"]) {
    out.push_back(f["kind"].get<std::string>() + "/" + f["cause"].get<std::string>() + " " +
                  f["confidence"].get<std::string>());
  }
  return out;
}

const json& finding_of(const json& report, const std::string& kind) {
  INFO(report["findings"].dump());
  std::size_t n = 0;
  const json* found = nullptr;
  for (const json& f : report["findings"]) {
    if (f["kind"] == kind) {
      ++n;
      found = &f;
    }
  }
  REQUIRE(n == 1);
  return *found;
}

void check_clean(const json& c) {
  INFO(c.dump());
  CHECK(c["close_kind"] == "fin");
  CHECK(c["active_closer"] == "client");
  CHECK(c["time_wait_holder"] == "client");
  CHECK(c["handshake_seen"] == true);
  CHECK(c["mid_stream"] == false);
  CHECK(c["incarnation"] == 1);
  CHECK(c["finding_ids"].empty());
}

constexpr Timestamp kT0{1'800'000'000'000'000'000};

}  // namespace

// ---------------------------------------------------------------------------------------------
// (1) VLANs and interfaces.

TEST_CASE("the same conversation on two VLANs is two connections", "[inputs][scope]") {
  // Same hosts, ports, ISNs and IP ids: only the 802.1Q tag tells the two apart. Interleaved
  // 5 ms apart, so on one link they would be retransmissions of each other.
  const HostSpec client = host("10.20.0.1", 40200, 1'000'000);
  const HostSpec server = host("10.20.0.2", 80, 5'000'000);
  Conversation v10(client, server, kT0);
  Conversation v20(client, server, kT0 + Duration::from_ms(5));
  SECTION("802.1Q") {
    v10.vlans({10});
    v20.vlans({20});
  }
  SECTION("QinQ: the same outer tag, different inner tags") {
    v10.vlans({300, 10});
    v20.vlans({300, 20});
  }
  clean_connection(v10);
  clean_connection(v20);
  const json report = analyze_pcap("vlans.pcap", by_time(concat(v10.packets(), v20.packets())));
  INFO(report["findings"].dump());
  CHECK(report["findings"].empty());
  CHECK(report["summary"]["duplicates"] == 0);
  const json& conns = report["connections"];
  REQUIRE(conns.size() == 2);
  CHECK(conns[0]["vlan"] == 10);
  CHECK(conns[1]["vlan"] == 20);
  for (const json& c : conns) {
    check_clean(c);
    CHECK(c["client"] == "10.20.0.1:40200");
    CHECK(c["packets_c2s"] == 6);
    CHECK(c["packets_s2c"] == 4);
  }
}

TEST_CASE("without VLAN tags the same two conversations collapse into one", "[inputs][scope]") {
  // The near miss of the test above: what keeps them apart is the tag and nothing else.
  const HostSpec client = host("10.20.0.1", 40200, 1'000'000);
  const HostSpec server = host("10.20.0.2", 80, 5'000'000);
  Conversation a(client, server, kT0);
  Conversation b(client, server, kT0 + Duration::from_ms(5));
  clean_connection(a);
  clean_connection(b);
  const json report = analyze_pcap("no-vlans.pcap", by_time(concat(a.packets(), b.packets())));
  REQUIRE(report["connections"].size() == 1);
  CHECK(report["connections"][0].contains("vlan") == false);  // untagged: no field at all
}

namespace {

// The same script on two pcapng interfaces with different link types, as a capture on both
// sides of a router shows it: the client's packets reach interface 0 (Ethernet) first and
// interface 1 (Linux SLL2) 40 µs later, the server's the other way round.
struct TwoSides {
  std::vector<SynthPacket> packets;
  std::size_t per_interface = 0;
};

TwoSides seen_on_both_sides(const HostSpec& client, const HostSpec& server, Timestamp start,
                            const std::function<void(Conversation&)>& script) {
  Conversation near_client(client, server, start, synth::Link::ethernet);
  Conversation near_server(client, server, start, synth::Link::linux_sll2);
  near_server.interface(1);
  script(near_client);
  script(near_server);
  REQUIRE(near_client.packets().size() == near_server.packets().size());
  TwoSides out;
  out.per_interface = near_client.packets().size();
  std::vector<SynthPacket> all;
  for (std::size_t i = 0; i < out.per_interface; ++i) {
    SynthPacket a = near_client.packets()[i];
    SynthPacket b = near_server.packets()[i];
    // Ethernet: the source IPv4 address is at 14 + 12.
    const bool from_client =
        std::equal(a.bytes.begin() + 26, a.bytes.begin() + 30, client.ip.bytes.begin());
    SynthPacket& later = from_client ? b : a;
    later.ts = later.ts + Duration{40 * 1000};
    all.push_back(std::move(a));
    all.push_back(std::move(b));
  }
  out.packets = by_time(std::move(all));
  return out;
}

const HostSpec kRouted = host("192.168.7.10", 40300, 3'000'000, 100);
const HostSpec kRoutedServer = host("192.168.9.20", 443, 8'000'000, 900);

std::vector<std::uint8_t> two_interface_pcapng(const std::vector<SynthPacket>& packets) {
  synth::PcapngOptions o;
  o.interfaces = {synth::PcapngInterface{1, 9, 0, 0, "eth0"},
                  synth::PcapngInterface{276, 9, 0, 0, "eth1"}};
  return synth::write_pcapng(packets, o);
}

}  // namespace

TEST_CASE("the same traffic seen on two interfaces is one connection", "[inputs][scope]") {
  const TwoSides cap = seen_on_both_sides(kRouted, kRoutedServer, kT0, clean_connection);
  const json report = analyze_bytes("mirrored.pcapng", two_interface_pcapng(cap.packets));
  CHECK(report["inputs"][0]["link_types"] == json::array({"EN10MB", "LINUX_SLL2"}));
  INFO(report["findings"].dump());
  CHECK(report["findings"].empty());  // no fin_retransmit: the copies are duplicates
  CHECK(report["summary"]["duplicates"] == cap.per_interface);
  REQUIRE(report["connections"].size() == 1);
  const json& c = report["connections"][0];
  check_clean(c);
  CHECK(c["interface_id"] == 0);  // where its first packet was seen
  CHECK(c["packets_c2s"] == 12);  // 6 sent, each seen twice
  CHECK(c["packets_s2c"] == 8);
}

TEST_CASE("a second incarnation seen on two interfaces stays on the same four-tuple",
          "[inputs][scope]") {
  // Once an interface proved to carry the same traffic, the next connection on the four-tuple
  // seen there is the next incarnation, not a stranger: the reuse is still recognised. The
  // client reconnects 2 s after the close with an ISN far beyond the old sequence space.
  const TwoSides first = seen_on_both_sides(kRouted, kRoutedServer, kT0, clean_connection);
  HostSpec client = kRouted;
  HostSpec server = kRoutedServer;
  client.isn = 9'000'000;
  client.ip_id_start = 2000;
  server.isn = 1'000'000;
  server.ip_id_start = 3000;
  const TwoSides second = seen_on_both_sides(
      client, server, first.packets.back().ts + Duration::from_s(2), clean_connection);
  const json report = analyze_bytes("mirrored-reuse.pcapng",
                                    two_interface_pcapng(concat(first.packets, second.packets)));
  REQUIRE(report["connections"].size() == 2);
  CHECK(report["connections"][1]["incarnation"] == 2);
  CHECK(finding_names(report) == std::vector<std::string>{"tuple_reuse/rfc6191_safe confirmed"});
  CHECK(report["summary"]["duplicates"] == first.per_interface + second.per_interface);
}

TEST_CASE("different traffic with the same four-tuple on two interfaces is two connections",
          "[inputs][scope]") {
  // Two private networks behind two interfaces, each with a 10.0.0.5 talking to a 10.0.0.9:
  // other ISNs, other IP ids, interleaved 500 µs apart.
  Conversation lan0(host("10.0.0.5", 40400, 1'000'000, 10), host("10.0.0.9", 8080, 2'000'000, 20),
                    kT0);
  Conversation lan1(host("10.0.0.5", 40400, 700'000'000, 30'000),
                    host("10.0.0.9", 8080, 900'000'000, 40'000), kT0 + Duration{500 * 1000},
                    synth::Link::linux_sll2);
  lan1.interface(1);
  clean_connection(lan0);
  clean_connection(lan1);
  const json report = analyze_bytes(
      "two-lans.pcapng", two_interface_pcapng(by_time(concat(lan0.packets(), lan1.packets()))));
  INFO(report["findings"].dump());
  CHECK(report["findings"].empty());  // no tuple_reuse, no stale_segment between the two
  CHECK(report["summary"]["duplicates"] == 0);
  const json& conns = report["connections"];
  REQUIRE(conns.size() == 2);
  CHECK(conns[0]["interface_id"] == 0);
  CHECK(conns[1]["interface_id"] == 1);
  for (const json& c : conns) {
    check_clean(c);
    CHECK(c["client"] == "10.0.0.5:40400");
    CHECK(c["server"] == "10.0.0.9:8080");
    CHECK(c["packets_c2s"] == 6);
    CHECK(c["packets_s2c"] == 4);
    CHECK(c["history"] == "ShADdFaf");
  }
}

// ---------------------------------------------------------------------------------------------
// (2) Snaplen cuts.

namespace {

// Timestamps on (RFC 7323). Incarnation 1 closes cleanly, client first; the client reopens the
// four-tuple 1 s later with an ISN *below* the old sequence space but a newer TSval, so RFC 6191
// accepts it by timestamp only (tuple_reuse/rfc6191_safe). Then a byte copy of an old data
// segment arrives exactly at the server's RCV.NXT with an acceptable ack: only its old TSval
// lets PAWS drop it (stale_segment/stale_data, warning; critical without PAWS). Both verdicts
// rest on timestamps. The new connection's IP ids start far from the old ones, so the copy is
// recognised as old without timestamps too.
struct PawsScenario {
  std::vector<SynthPacket> packets;
  std::uint64_t final_ack = 0, syn = 0, copy = 0;
};

PawsScenario paws_scenario() {
  constexpr std::uint32_t ci = 1'000'000;
  constexpr std::uint32_t si = 5'000'000;
  HostSpec client = host("192.0.2.50", 40500, ci, 100);
  HostSpec server = host("198.51.100.60", 8080, si, 200);
  client.timestamps = server.timestamps = true;
  client.ts_start = 100'000;
  server.ts_start = 7'100'000;
  Conversation n1(client, server, kT0);
  n1.handshake();
  n1.exchange(1000, 1000);
  const std::uint64_t old = n1.data(Side::client, 1000);  // seq ci+1001, ack si+1001
  n1.ack(Side::server);
  n1.fin(Side::client);
  n1.ack(Side::server);
  n1.fin(Side::server);
  const std::uint64_t final_ack = n1.ack(Side::client);

  const Timestamp start2 = n1.now() + Duration::from_s(1);
  const auto ms_since_t0 = static_cast<std::uint32_t>((start2 - kT0).ns / 1'000'000);
  HostSpec client2 = host("192.0.2.50", 40500, ci + 400, 30'000);
  HostSpec server2 = host("198.51.100.60", 8080, si + 700, 40'000);
  client2.timestamps = server2.timestamps = true;
  client2.ts_start = client.ts_start + ms_since_t0;  // the hosts' TSval clocks go on
  server2.ts_start = server.ts_start + ms_since_t0;
  Conversation n2(client2, server2, start2);
  n2.handshake();
  n2.data(Side::client, 600);  // the server's RCV.NXT becomes ci+1001
  n2.data(Side::server, 300);  // its SND.NXT becomes si+1001
  n2.ack(Side::client);
  const std::size_t before_copy = n2.packets().size();
  SynthPacket copy = n1.packets().at(old - 1);
  copy.ts = n2.now() + Duration::from_ms(3);
  n2.at(copy.ts + Duration{100 * 1000});
  n2.ack(Side::server);  // PAWS dropped it: a duplicate ACK, nothing new acknowledged
  n2.data(Side::client, 1000);
  n2.ack(Side::server);
  n2.close(Side::client);

  PawsScenario s;
  s.packets = n1.packets();
  s.final_ack = final_ack;
  s.syn = s.packets.size() + 1;
  s.packets.insert(s.packets.end(), n2.packets().begin(),
                   n2.packets().begin() + static_cast<std::ptrdiff_t>(before_copy));
  s.packets.push_back(copy);
  s.copy = s.packets.size();
  s.packets.insert(s.packets.end(), n2.packets().begin() + static_cast<std::ptrdiff_t>(before_copy),
                   n2.packets().end());
  return s;
}

std::vector<std::uint64_t> frames(const json& f) {
  std::vector<std::uint64_t> out;
  for (const json& n : f["frames"]) out.push_back(n.get<std::uint64_t>());
  return out;
}

bool has_evidence(const json& f, const char* key) {
  return f["evidence"].contains(key);
}

}  // namespace

TEST_CASE("snaplen: verdicts resting on cut timestamps lose confidence", "[inputs][snaplen]") {
  const PawsScenario s = paws_scenario();

  SECTION("full snaplen: both verdicts confirmed, by timestamps") {
    const json report = analyze_pcap("paws-full.pcap", s.packets);
    REQUIRE(report["findings"].size() == 2);
    const json& reuse = finding_of(report, "tuple_reuse");
    CHECK(reuse["cause"] == "rfc6191_safe");
    CHECK(reuse["confidence"] == "confirmed");
    CHECK(frames(reuse) == std::vector<std::uint64_t>{s.final_ack, s.syn});
    CHECK_FALSE(has_evidence(reuse, "snaplen_cut"));
    const json& stale = finding_of(report, "stale_segment");
    CHECK(stale["cause"] == "stale_data");
    CHECK(stale["severity"] == "warning");
    CHECK(stale["confidence"] == "confirmed");
    CHECK(stale["evidence"]["paws_reject"] == true);
    CHECK(stale["evidence"]["in_window"] == true);
    CHECK(frames(stale) == std::vector<std::uint64_t>{s.copy});
    CHECK_FALSE(has_evidence(stale, "snaplen_cut"));
  }

  SECTION("snaplen 54: no TCP options at all, both verdicts are probable") {
    // 14 Ethernet + 20 IPv4 + 20 TCP: flags, seq and ack are all there, the options are not.
    const json report = analyze_pcap("paws-54.pcap", s.packets, 54);
    CHECK(report["summary"]["malformed"].empty());
    REQUIRE(report["connections"].size() == 2);
    REQUIRE(report["findings"].size() == 2);
    // Without the TSvals RFC 6191 cannot accept the reuse: unsafe, as far as the capture shows.
    const json& reuse = finding_of(report, "tuple_reuse");
    CHECK(reuse["cause"] == "unsafe");
    CHECK(reuse["confidence"] == "probable");
    CHECK(reuse["evidence"]["snaplen_cut"] == true);
    CHECK(frames(reuse) == std::vector<std::uint64_t>{s.final_ack, s.syn});
    // Without its TSval nothing shows PAWS dropping the copy: it would be taken as data.
    const json& stale = finding_of(report, "stale_segment");
    CHECK(stale["severity"] == "critical");
    CHECK(stale["confidence"] == "probable");
    CHECK(stale["evidence"]["paws_reject"] == false);
    CHECK(stale["evidence"]["snaplen_cut"] == true);
    CHECK(frames(stale) == std::vector<std::uint64_t>{s.copy});
  }

  SECTION("snaplen 68: only the SYNs lost their timestamps") {
    // 14 option bytes: a data segment's timestamps (12 bytes with padding) are kept, a SYN's
    // (after MSS, window scale and SACK-permitted) are not. RFC 6191 judges the SYN's TSval:
    // probable. PAWS judged the copy by its own TSval and the client's later ones: still
    // confirmed.
    const json report = analyze_pcap("paws-68.pcap", s.packets, 68);
    REQUIRE(report["findings"].size() == 2);
    const json& reuse = finding_of(report, "tuple_reuse");
    CHECK(reuse["cause"] == "rfc6191_safe");
    CHECK(reuse["confidence"] == "probable");
    CHECK(reuse["evidence"]["snaplen_cut"] == true);
    const json& stale = finding_of(report, "stale_segment");
    CHECK(stale["severity"] == "warning");
    CHECK(stale["confidence"] == "confirmed");
    CHECK(stale["evidence"]["paws_reject"] == true);
    CHECK_FALSE(has_evidence(stale, "snaplen_cut"));
  }
}

TEST_CASE("snaplen: verdicts that need no option keep their confidence", "[inputs][snaplen]") {
  // A reuse judged by sequence numbers alone (the new ISN is beyond the old space) does not
  // depend on the timestamps the snaplen cut, and a clean close never needed them.
  HostSpec client = host("192.0.2.70", 40600, 1'000'000, 100);
  HostSpec server = host("198.51.100.80", 8080, 5'000'000, 200);
  client.timestamps = server.timestamps = true;
  Conversation n1(client, server, kT0);
  clean_connection(n1);
  HostSpec client2 = host("192.0.2.70", 40600, 50'000'000, 3000);
  HostSpec server2 = host("198.51.100.80", 8080, 70'000'000, 4000);
  client2.timestamps = server2.timestamps = true;
  Conversation n2(client2, server2, n1.now() + Duration::from_s(1));
  clean_connection(n2);
  for (std::uint32_t snaplen : {54U, 262144U}) {
    DYNAMIC_SECTION("snaplen " << snaplen) {
      const json report = analyze_pcap("seq-reuse-" + std::to_string(snaplen) + ".pcap",
                                       concat(n1.packets(), n2.packets()), snaplen);
      CHECK(finding_names(report) ==
            std::vector<std::string>{"tuple_reuse/rfc6191_safe confirmed"});
      CHECK_FALSE(has_evidence(report["findings"][0], "snaplen_cut"));
      REQUIRE(report["connections"].size() == 2);
      for (const json& c : report["connections"]) CHECK(c["close_kind"] == "fin");
    }
  }
}
