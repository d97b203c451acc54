// End to end, hostile PACKETS: one hostile frame spliced into the valid base capture (between
// connection 1 and connection 2), analysed by the real binary. Each case asserts where the frame
// is counted in the JSON summary, that the input is still `ok` (a bad packet is never a bad
// file), the exit code (1: connection 1's finding survives) and that both base connections are
// still rebuilt. tests/unit/decode checks the decoded fields; this checks the outcome.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "lastack/decode/decoded_packet.h"
#include "support/hostile.h"

namespace h = lastack::hostile;
using h::Bytes;
using nlohmann::json;

namespace {

struct Case {
  std::string name;
  std::vector<Bytes> frames;
  std::string counter;  // summary key ("not_tcp") or "malformed/<reason>" or "tcp_packets"
  std::size_t extra_connections = 0;  // connections the hostile frames open (third tuple)
};

json run_case(const Case& c, std::uint32_t link_type = 1) {
  const h::Scratch dir("pkt");
  h::write_file(dir / "x.pcap", h::pcap_with_frames(c.frames, link_type));
  const h::RunResult r = h::run_lastack(dir.path(), {"analyze", "--quiet", "--connections", "all",
                                                     "--json", "-", (dir / "x.pcap").string()});
  INFO(c.name << ": " << r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.err.empty());
  return json::parse(r.out);
}

}  // namespace

TEST_CASE("robust: hostile packets are counted, never stop the input, lose nothing else",
          "[robust][cli]") {
  namespace f = lastack::decode::tcp_flag;
  const std::vector<Case> cases = {
      {"IPv4 IHL < 5", {h::frame_ipv4_ihl(4)}, "malformed/ipv4_bad_ihl"},
      {"IPv4 IHL beyond the capture", {h::frame_ipv4_ihl(15, 14 + 24)}, "malformed/ipv4_bad_ihl"},
      {"IPv4 total length 0 (TSO)", {h::frame_ipv4_total_length(0)}, "tcp_packets", 1},
      {"IPv4 total length beyond the capture",
       {h::frame_ipv4_total_length(2000)},
       "tcp_packets",
       1},
      {"IPv4 total length below the header",
       {h::frame_ipv4_total_length(12)},
       "malformed/ipv4_bad_length"},
      {"IPv4 options", {h::frame_ipv4_options()}, "tcp_packets", 1},
      {"TCP data offset < 5", {h::frame_tcp_offset(4)}, "malformed/tcp_bad_offset"},
      {"TCP data offset beyond the capture", {h::frame_tcp_offset(15)}, "malformed/tcp_bad_offset"},
      {"TCP option length 0", {h::frame_tcp_options({30, 0})}, "malformed/tcp_bad_options"},
      {"TCP option length 1", {h::frame_tcp_options({30, 1})}, "malformed/tcp_bad_options"},
      {"TCP option past the header",
       {h::frame_tcp_options({1, 1, 30, 12})},
       "malformed/tcp_bad_options"},
      {"MSS length 3", {h::frame_tcp_options({2, 3, 5})}, "malformed/tcp_bad_options"},
      {"WS length 4", {h::frame_tcp_options({3, 4, 7, 0})}, "malformed/tcp_bad_options"},
      {"SACK half a block",
       {h::frame_tcp_options({5, 6, 0, 0, 0, 1})},
       "malformed/tcp_bad_options"},
      {"TS length 9",
       {h::frame_tcp_options({8, 9, 0, 0, 0, 1, 0, 0, 0})},
       "malformed/tcp_bad_options"},
      {"window scale 200 (> 14)", {h::frame_tcp_options({3, 3, 200})}, "tcp_packets", 1},
      {"100 IPv6 extension headers",
       {h::frame_ipv6_ext_chain(100)},
       "malformed/ipv6_bad_ext_header"},
      {"IPv4 fragment", {h::frame_ipv4_fragment()}, "fragments"},
      {"IPv6 fragment", {h::frame_ipv6_fragment()}, "fragments"},
      {"100 stacked VLAN tags", {h::frame_vlan_stack(100)}, "malformed/vlan_too_deep"},
      {"SYN+FIN", {h::tcp_frame(f::syn | f::fin)}, "tcp_packets", 1},
      {"SYN+RST", {h::tcp_frame(f::syn | f::rst)}, "tcp_packets", 1},
      {"all flags", {h::tcp_frame(0xff, 10)}, "tcp_packets", 1},
      {"ARP (not IP)", {h::frame_arp()}, "not_ip"},
      {"UDP (not TCP)", {h::frame_udp()}, "not_tcp"},
      {"ICMP error quoting a TCP header", {h::frame_icmp_quoting_tcp()}, "not_tcp"},
  };
  for (const Case& c : cases) {
    DYNAMIC_SECTION(c.name) {
      const json report = run_case(c);
      const json& s = report["summary"];
      CHECK(report["inputs"][0]["status"] == "ok");
      CHECK(report["inputs"][0]["packets"] == h::kBaseFrames + c.frames.size());
      const bool is_tcp = c.counter == "tcp_packets";
      CHECK(s["tcp_packets"] == h::kBaseFrames + (is_tcp ? c.frames.size() : 0));
      if (c.counter.rfind("malformed/", 0) == 0) {
        const std::string reason = c.counter.substr(10);
        CHECK(s["malformed"] == json{{reason, c.frames.size()}});
      } else {
        CHECK(s["malformed"].empty());
        if (!is_tcp) CHECK(s[c.counter] == c.frames.size());
      }
      // Both base connections rebuilt as without the hostile frame; its own tuple if TCP.
      CHECK(s["connections"] == 2 + c.extra_connections);
      CHECK(h::count_kind(report, "abortive_close") == 1);
      std::size_t clean = 0;
      for (const json& conn : report["connections"]) {
        if (conn["client"] == "10.0.0.1:40002") clean += conn["close_kind"] == "fin" ? 1 : 0;
      }
      CHECK(clean == 1);
    }
  }
}

TEST_CASE("robust: an unsupported link type warns with the supported ones, exit by findings",
          "[robust][cli]") {
  const h::Scratch dir("linktype");
  lastack::synth::PcapOptions opt;
  opt.link_type = 105;  // IEEE 802.11, named LINKTYPE_105
  h::write_file(dir / "wifi.pcap", h::base_pcap(opt));
  const h::RunResult r =
      h::run_lastack(dir.path(), {"analyze", "--json", "-", (dir / "wifi.pcap").string()});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(h::contains(r.err, "lastack: warning: " + (dir / "wifi.pcap").string() +
                               ": link type LINKTYPE_105 is not supported, its packets were not "
                               "analysed (supported: EN10MB, "));
  CHECK(h::contains(r.err, "LINUX_SLL2"));
  const json report = json::parse(r.out);
  CHECK(report["inputs"][0]["status"] == "ok");
  CHECK(report["summary"]["unsupported_link"] == h::kBaseFrames);
  CHECK(report["summary"]["tcp_packets"] == 0);

  // --quiet silences the warning; a supported type gives none.
  CHECK(
      h::run_lastack(dir.path(), {"analyze", "--quiet", (dir / "wifi.pcap").string()}).err.empty());
  h::write_file(dir / "eth.pcap", h::base_pcap());
  const h::RunResult eth = h::run_lastack(dir.path(), {"analyze", (dir / "eth.pcap").string()});
  CHECK_FALSE(h::contains(eth.err, "not supported"));

  // Every listed type is one decode handles.
  for (const std::uint32_t lt : lastack::decode::supported_link_types()) {
    lastack::capture::RawFrame frame;
    frame.link_type = lt;
    lastack::decode::DecodedPacket out;
    frame.bytes = {};
    lastack::decode::decode_frame(frame, out);
    CHECK(out.outcome != lastack::decode::Outcome::unsupported_link);
  }
}
