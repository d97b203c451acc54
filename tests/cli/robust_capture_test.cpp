// End to end, hostile capture FILES: the real binary on generated broken inputs. Each case
// asserts the message on stderr, the exit code, the input's status/error/offset in the JSON
// report and what is still reported (packets read before the fault, connection 1's
// abortive_close finding). Unit tests of the readers (tests/unit/capture) cover the parsing
// details; here it is the user-visible outcome.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "lastack/synth/conversation.h"
#include "support/hostile.h"

namespace h = lastack::hostile;
using h::Bytes;
using nlohmann::json;

namespace {

struct Outcome {
  h::RunResult run;
  json report;
};

// Analyses `files` (written into the scratch dir as name -> bytes) with a JSON report.
Outcome analyse(const h::Scratch& dir, const std::vector<std::pair<std::string, Bytes>>& files,
                std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"analyze", "--json", (dir / "report.json").string()};
  args.insert(args.end(), extra.begin(), extra.end());
  for (const auto& [name, bytes] : files) {
    h::write_file(dir / name, bytes);
    args.push_back((dir / name).string());
  }
  Outcome o;
  o.run = h::run_lastack(dir.path(), args);
  INFO(o.run.err);
  REQUIRE(std::filesystem::exists(dir / "report.json"));
  o.report = json::parse(h::read_text(dir / "report.json"));
  return o;
}

// The hostile file cannot be opened at all; the good file next to it is analysed in full.
void check_refused(const std::string& name, const Bytes& bytes, const std::string& message) {
  const h::Scratch dir("refused");
  const Outcome o = analyse(dir, {{name, bytes}, {"good.pcap", h::base_pcap()}});
  INFO(o.run.err);
  CHECK(o.run.exit_code == 2);
  CHECK(h::contains(o.run.err, "lastack: " + (dir / name).string() + ": "));
  CHECK(h::contains(o.run.err, message));
  const json& bad = o.report["inputs"][0];
  CHECK(bad["status"] == "error");
  CHECK(h::contains(bad["error"].get<std::string>(), message));
  CHECK(bad["packets"] == 0);
  CHECK(o.report["inputs"][1]["status"] == "ok");
  CHECK(o.report["inputs"][1]["packets"] == h::kBaseFrames);
  CHECK(h::count_kind(o.report, "abortive_close") == 1);
}

// The hostile file is read up to a fault: `kept` packets before it are analysed.
void check_fault(const std::string& name, const Bytes& bytes, const std::string& status,
                 const std::string& message, std::size_t offset, std::size_t kept, int exit_code) {
  const h::Scratch dir("fault");
  const Outcome o = analyse(dir, {{name, bytes}});
  INFO(o.run.err);
  CHECK(o.run.exit_code == exit_code);
  const json& in = o.report["inputs"][0];
  CHECK(in["status"] == status);
  CHECK(h::contains(in["error"].get<std::string>(), message));
  CHECK(in["error_offset"] == offset);
  CHECK(in["packets"] == kept);
  CHECK(h::contains(o.run.err, message));
  if (status == "truncated") {
    CHECK(h::contains(o.run.err, "lastack: warning: " + (dir / name).string() +
                                     ": truncated at byte " + std::to_string(offset)));
  } else {
    CHECK(h::contains(o.run.err, "(byte offset " + std::to_string(offset) + ")"));
  }
  // Connection 1 lies before every fault: its finding survives.
  CHECK(h::count_kind(o.report, "abortive_close") == 1);
}

}  // namespace

TEST_CASE("robust: files that are not captures are refused, the others still analysed",
          "[robust][cli]") {
  const Bytes pcap = h::base_pcap();
  SECTION("empty file") {
    check_refused("empty.pcap", {}, "empty file");
  }
  SECTION("global header cut") {
    check_refused("cut-header.pcap", h::cut(pcap, 10), "pcap file header");
  }
  SECTION("random bytes named .pcap") {
    check_refused("random.pcap", h::random_bytes(4096, 7), "not a capture");
  }
  SECTION("a text file named .pcap") {
    check_refused("notes.pcap", h::text_bytes(), "not a capture");
  }
  SECTION("unsupported pcap version") {
    Bytes v = pcap;
    v[4] = 3;  // version 3.4
    check_refused("v3.pcap", v, "is not supported (expected 2.4)");
  }
  SECTION("pcapng section header cut") {
    check_refused("cut.pcapng", h::cut(h::base_pcapng(), 20),
                  "block 1 at byte 0: header says 28 bytes, only 20 remain");
  }
  SECTION("gzip stream of garbage") {
    check_refused("garbage.pcap.gz", h::gzip(h::random_bytes(2000, 3)), "not a capture");
  }
}

TEST_CASE("robust: a file with only the header is an empty capture, not an error",
          "[robust][cli]") {
  const h::Scratch dir("header-only");
  for (const auto& [name, bytes] : std::vector<std::pair<std::string, Bytes>>{
           {"h.pcap", h::cut(h::base_pcap(), 24)}, {"h.pcapng", [] {
                                                      Bytes b = h::ng_shb();
                                                      const Bytes idb = h::ng_idb();
                                                      b.insert(b.end(), idb.begin(), idb.end());
                                                      return b;
                                                    }()}}) {
    const Outcome o = analyse(dir, {{name, bytes}});
    INFO(name << ": " << o.run.err);
    CHECK(o.run.exit_code == 0);
    CHECK(o.run.err.empty());
    CHECK(o.report["inputs"][0]["status"] == "ok");
    CHECK(o.report["inputs"][0]["packets"] == 0);
    CHECK(o.report["findings"].empty());
  }
}

TEST_CASE("robust: a cut last record is a warning, exit by findings; --strict makes it 2",
          "[robust][cli]") {
  const Bytes pcap = h::base_pcap();
  const std::size_t last = h::pcap_record_offsets(pcap).back();
  SECTION("data cut") {
    check_fault("data.pcap", h::cut(pcap, pcap.size() - 5), "truncated", "record 14", last,
                h::kBaseFrames - 1, 1);
  }
  SECTION("header cut") {
    check_fault("hdr.pcap", h::cut(pcap, last + 9), "truncated", "record 14", last,
                h::kBaseFrames - 1, 1);
  }
  SECTION("--strict") {
    const h::Scratch dir("strict");
    const Outcome o = analyse(dir, {{"s.pcap", h::cut(pcap, pcap.size() - 5)}}, {"--strict"});
    CHECK(o.run.exit_code == 2);
    CHECK(h::contains(o.run.err, "lastack: " + (dir / "s.pcap").string() + ": truncated at byte"));
    CHECK(h::count_kind(o.report, "abortive_close") == 1);
  }
}

TEST_CASE("robust: corrupt records mid-file stop that input at the byte offset, exit 2",
          "[robust][cli]") {
  const Bytes pcap = h::base_pcap();
  const std::vector<std::size_t> rec = h::pcap_record_offsets(pcap);
  SECTION("absurd caplen (no large allocation: refused before reading)") {
    Bytes b = pcap;
    h::put32le(b, rec[8] + 8, 0x7ffffff0u);
    check_fault("caplen.pcap", b, "error", "record 9", rec[8], 8, 2);
  }
  SECTION("pcapng: packet block before any interface") {
    Bytes b = h::ng_shb();
    const Bytes epb = h::ng_epb(0, h::tcp_frame(0x02));
    b.insert(b.end(), epb.begin(), epb.end());
    const h::Scratch dir("ng-no-idb");
    const Outcome o = analyse(dir, {{"x.pcapng", b}, {"good.pcap", pcap}});
    CHECK(o.run.exit_code == 2);
    CHECK(h::contains(o.run.err, "before any interface description block"));
    CHECK(o.report["inputs"][0]["error_offset"] == h::ng_shb().size());
    CHECK(h::count_kind(o.report, "abortive_close") == 1);
  }
  // pcapng: SHB, IDB, connection 1's six packets, then one broken block.
  Bytes ng = h::ng_shb();
  const Bytes idb = h::ng_idb();
  ng.insert(ng.end(), idb.begin(), idb.end());
  const auto packets = h::base_packets();
  for (std::size_t i = 0; i < h::kFirstConnFrames; ++i) {
    const Bytes epb =
        h::ng_epb(0, packets[i].bytes, static_cast<std::uint64_t>(packets[i].ts.ns / 1000));
    ng.insert(ng.end(), epb.begin(), epb.end());
  }
  const std::size_t at = ng.size();
  auto with = [&](const Bytes& block) {
    Bytes b = ng;
    b.insert(b.end(), block.begin(), block.end());
    // More valid blocks after the fault must not be read.
    const Bytes epb = h::ng_epb(0, packets.back().bytes);
    b.insert(b.end(), epb.begin(), epb.end());
    return b;
  };
  const Bytes body(24, 0);
  SECTION("pcapng: unknown interface id") {
    check_fault("if.pcapng", with(h::ng_epb(3, packets[6].bytes)), "error", "refers to interface 3",
                at, 6, 2);
  }
  SECTION("pcapng: trailer length mismatch") {
    check_fault("trailer.pcapng", with(h::ng_block(6, body, 36, 40)), "error", "trailing length 40",
                at, 6, 2);
  }
  SECTION("pcapng: block length not a multiple of 4") {
    check_fault("len4.pcapng", with(h::ng_block(6, body, 37, 37)), "error", "length 37", at, 6, 2);
  }
  SECTION("pcapng: block length below 12") {
    check_fault("len8.pcapng", with(h::ng_block(0x0BAD, {}, 8, 8)), "error", "length 8", at, 6, 2);
  }
  SECTION("pcapng: huge block length") {
    check_fault("huge.pcapng", with(h::ng_block(6, body, 0xFFFFFFF0u, 36)), "error",
                "length 4294967280", at, 6, 2);
  }
}

TEST_CASE("robust: odd but valid records are read: caplen above len, small snaplens",
          "[robust][cli]") {
  SECTION("caplen > len") {
    Bytes b = h::base_pcap();
    const std::size_t r = h::pcap_record_offsets(b)[3];
    h::put32le(b, r + 12, 20);  // wire length 20 below the captured length
    const h::Scratch dir("caplen-len");
    const Outcome o = analyse(dir, {{"c.pcap", b}});
    CHECK(o.run.exit_code == 1);
    CHECK(o.report["inputs"][0]["status"] == "ok");
    CHECK(o.report["summary"]["tcp_packets"] == h::kBaseFrames);
    CHECK(h::count_kind(o.report, "abortive_close") == 1);
  }
  SECTION("snaplen 68: every header captured, the same analysis") {
    lastack::synth::PcapOptions opt;
    opt.snaplen = 68;
    const h::Scratch dir("snap68");
    const Outcome o = analyse(dir, {{"s.pcap", h::base_pcap(opt)}});
    CHECK(o.run.exit_code == 1);
    CHECK(o.report["summary"]["tcp_packets"] == h::kBaseFrames);
    CHECK(o.report["summary"]["connections"] == 2);
    CHECK(h::count_kind(o.report, "abortive_close") == 1);
  }
  SECTION("snaplen 40 on Ethernet: TCP headers cut, counted as malformed, nothing invented") {
    lastack::synth::PcapOptions opt;
    opt.snaplen = 40;
    const h::Scratch dir("snap40");
    const Outcome o = analyse(dir, {{"s.pcap", h::base_pcap(opt)}});
    CHECK(o.run.exit_code == 0);
    CHECK(o.report["inputs"][0]["status"] == "ok");
    CHECK(o.report["summary"]["tcp_packets"] == 0);
    CHECK(o.report["summary"]["malformed"]["tcp_truncated"] == h::kBaseFrames);
    CHECK(o.report["findings"].empty());
  }
  SECTION("snaplen 40 on raw IP: exactly the IP and TCP headers, the same analysis") {
    std::vector<lastack::synth::SynthPacket> packets = h::base_packets();
    for (auto& p : packets) p.bytes.erase(p.bytes.begin(), p.bytes.begin() + 14);
    lastack::synth::PcapOptions opt;
    opt.snaplen = 40;
    opt.link_type = 101;  // LINKTYPE_RAW
    const h::Scratch dir("snap40raw");
    const Outcome o = analyse(dir, {{"s.pcap", lastack::synth::write_pcap(packets, opt)}});
    CHECK(o.run.exit_code == 1);
    CHECK(o.report["summary"]["tcp_packets"] == h::kBaseFrames);
    CHECK(h::count_kind(o.report, "abortive_close") == 1);
  }
}

TEST_CASE("robust: timestamps going backwards or jumping by decades", "[robust][cli]") {
  std::vector<lastack::synth::SynthPacket> packets = h::base_packets();
  SECTION("backwards") {
    std::swap(packets[9].ts, packets[10].ts);  // connection 2's records out of order
    packets[12].ts = lastack::Timestamp{packets[0].ts.ns - 3'600'000'000'000};  // an hour back
  }
  SECTION("decades") {
    packets.back().ts =
        lastack::Timestamp{packets.back().ts.ns + 40LL * 365 * 86400 * 1'000'000'000};
  }
  const h::Scratch dir("time");
  const Outcome o = analyse(dir, {{"t.pcap", lastack::synth::write_pcap(packets)}});
  INFO(o.run.err);
  CHECK(o.run.exit_code == 1);
  const json& in = o.report["inputs"][0];
  CHECK(in["status"] == "ok");
  CHECK(in["packets"] == h::kBaseFrames);
  CHECK(in["first_ts"] <= in["last_ts"]);
  CHECK(h::count_kind(o.report, "abortive_close") == 1);
}

TEST_CASE("robust: gzip and zstd streams cut or corrupted", "[robust][cli]") {
  // Long enough (~600 KB) for several compressed blocks: a cut leaves whole blocks decodable.
  const Bytes pcap = h::long_pcap();
  for (const bool zstd : {false, true}) {
    const Bytes packed = zstd ? h::zstd(pcap) : h::gzip(pcap);
    const std::string ext = zstd ? ".pcap.zst" : ".pcap.gz";
    const std::string codec = zstd ? "zstd" : "gzip";
    INFO(codec);
    {
      const h::Scratch dir("cut-" + codec);
      const Outcome o = analyse(dir, {{"c" + ext, h::cut(packed, packed.size() * 3 / 4)}});
      INFO(o.run.err);
      CHECK(o.run.exit_code == 1);  // truncated: exit by findings
      CHECK(o.report["inputs"][0]["status"] == "truncated");
      CHECK(o.report["inputs"][0]["compression"] == codec);
      CHECK(h::contains(o.run.err,
                        "lastack: warning: " + (dir / ("c" + ext)).string() + ": truncated"));
      CHECK(o.report["inputs"][0]["packets"] > h::kBaseFrames);
      CHECK(o.report["inputs"][0]["packets"] < h::kLongFrames);
      CHECK(h::count_kind(o.report, "abortive_close") == 1);
    }
    {
      Bytes bad = packed;
      for (std::size_t i = bad.size() / 2; i < bad.size() / 2 + 64; ++i) bad[i] ^= 0x5a;
      const h::Scratch dir("bad-" + codec);
      const Outcome o = analyse(dir, {{"b" + ext, bad}});
      INFO(o.run.err);
      CHECK(o.run.exit_code == 2);
      CHECK(o.report["inputs"][0]["status"] == "error");
      // The decompressor notices at once, or garbage reaches the reader which stops at a bad
      // record: either way an error naming where, after the records before the damage.
      const std::string err = o.report["inputs"][0]["error"].get<std::string>();
      CHECK((h::contains(err, codec + " data is corrupt near compressed byte") ||
             h::contains(err, "the file is corrupt here")));
      CHECK(h::contains(o.run.err, err));
      if (!zstd) {
        // gzip: what was inflated before the damage is analysed.
        CHECK(o.report["inputs"][0]["packets"] > h::kBaseFrames);
        CHECK(h::count_kind(o.report, "abortive_close") == 1);
      } else {
        // zstd: the content checksum fails at the end of the (single) frame; libzstd does
        // not say which block was damaged, so nothing of the frame is trusted.
        CHECK(h::contains(err, "Restored data doesn't match checksum"));
      }
    }
  }
}

// Found by fuzz/pipeline_fuzz: src/detect/vantage.cpp multiplied handshake gaps by 5, which
// overflowed (UBSan: signed integer overflow) when the handshake spans decades.
TEST_CASE("robust: a handshake spanning decades does not overflow the vantage estimate",
          "[robust][cli]") {
  lastack::IpAddress a, b;
  REQUIRE(lastack::parse_ip("10.0.0.1", a));
  REQUIRE(lastack::parse_ip("10.0.0.2", b));
  lastack::synth::Conversation c({a, 40001, 1000}, {b, 80, 5000},
                                 lastack::Timestamp{1'000'000'000'000'000'000});
  c.syn(lastack::synth::Side::client);
  c.syn_ack();
  c.after(lastack::Duration::from_s(63LL * 365 * 86400));
  c.ack(lastack::synth::Side::client);
  c.fin(lastack::synth::Side::client);
  const h::Scratch dir("decades-handshake");
  const Outcome o = analyse(dir, {{"d.pcap", lastack::synth::write_pcap(c.packets())}});
  CHECK(o.run.exit_code == 0);
  CHECK(o.run.err.empty());
  CHECK(o.report["inputs"][0]["packets"] == 4);
}

// Found by fuzz/pipeline_fuzz: src/detect/time_wait_pressure.cpp rounded the capture span up to
// whole seconds with `span + 999999999`, which overflowed (UBSan) when pcapng timestamps span
// the whole int64 range.
TEST_CASE("robust: pcapng timestamps at both ends of the range do not overflow the span",
          "[robust][cli]") {
  Bytes b = h::ng_shb();
  const Bytes idb = h::ng_idb();
  b.insert(b.end(), idb.begin(), idb.end());
  const Bytes syn = h::base_packets().front().bytes;
  for (const std::uint64_t ticks : {std::uint64_t{1}, ~std::uint64_t{0}}) {
    const Bytes epb = h::ng_epb(0, syn, ticks);
    b.insert(b.end(), epb.begin(), epb.end());
  }
  const h::Scratch dir("extreme-ts");
  const Outcome o = analyse(dir, {{"x.pcapng", b}});
  CHECK(o.run.exit_code == 0);
  CHECK(o.run.err.empty());
  CHECK(o.report["inputs"][0]["packets"] == 2);
}
