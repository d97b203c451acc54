// pcapng reading: sections, interfaces, resolutions, block kinds, and hostile framing.
#include "capture_test_helpers.h"

using namespace lastack;
using namespace lastack::capture;
using namespace lastack::capture::testing;

namespace {

Bytes payload(std::size_t n, std::uint8_t seed = 1) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(seed + i);
  return b;
}

std::unique_ptr<PacketSource> open_ng(const NgBuilder& b) {
  return open_ok(b.bytes());
}

// Expects reading to stop with `code` at `offset`, after `frames_before` frames.
void expect_failure(const Bytes& file, ErrorCode code, std::uint64_t offset,
                    std::size_t frames_before, const std::string& fragment) {
  auto src = open_ok(file);
  CHECK(read_all(*src).size() == frames_before);
  CHECK(src->status() ==
        (code == ErrorCode::truncated ? InputStatus::truncated : InputStatus::error));
  CHECK(src->error().code == code);
  CHECK(src->error().has_offset);
  CHECK(src->error().offset == offset);
  CHECK_THAT(src->error().message, Catch::Contains(fragment));
}

constexpr std::uint64_t shb_size = 28;
constexpr std::uint64_t idb_size = 20;  // without options

}  // namespace

TEST_CASE("pcapng: writer round trip, both byte orders, two interfaces", "[capture][pcapng]") {
  auto packets = make_packets(6);
  for (std::size_t i = 0; i < packets.size(); ++i) packets[i].interface_id = i % 2;
  for (bool big_endian : {false, true}) {
    INFO("big_endian=" << big_endian);
    synth::PcapngOptions opt;
    opt.big_endian = big_endian;
    opt.interfaces = {synth::PcapngInterface{1, 6, 0, 0, "eth0"},
                      synth::PcapngInterface{113, 9, 0, 0, "any"}};
    const Bytes file = synth::write_pcapng(packets, opt);
    auto src = open_ok(file, 2);
    const auto frames = read_all(*src);
    REQUIRE(frames.size() == packets.size());
    for (std::size_t i = 0; i < frames.size(); ++i) {
      CHECK(frames[i].input == 2);
      CHECK(frames[i].frame_no == i + 1);
      CHECK(frames[i].interface_id == i % 2);
      CHECK(frames[i].link_type == (i % 2 == 0 ? 1u : 113u));
      CHECK(frames[i].ts_ns == packets[i].ts.ns);
      CHECK(frames[i].bytes == packets[i].bytes);
      CHECK(frames[i].orig_len == packets[i].bytes.size());
    }
    CHECK(src->status() == InputStatus::ok);
    CHECK(src->info().format == Format::pcapng);
    CHECK(src->info().link_types == std::vector<std::uint32_t>{1, 113});
    CHECK(src->info().bytes_read == file.size());
  }
}

TEST_CASE("pcapng: nanosecond and power-of-two resolutions", "[capture][pcapng]") {
  auto packets = make_packets(1);
  packets[0].ts = Timestamp{1'700'000'000'123'456'789};
  synth::PcapngOptions opt;
  opt.interfaces[0].tsresol = 9;
  CHECK(read_all(*open_ok(synth::write_pcapng(packets, opt)))[0].ts_ns == packets[0].ts.ns);

  opt.interfaces[0].tsresol = 0x80 | 20;  // 2^-20 s ticks: within one tick (954 ns)
  const std::int64_t got = read_all(*open_ok(synth::write_pcapng(packets, opt)))[0].ts_ns;
  CHECK(got <= packets[0].ts.ns);
  CHECK(packets[0].ts.ns - got < 954);

  NgBuilder b;  // half-second ticks: 3 ticks = 1.5 s exactly
  b.shb().idb(1, 0, b.option(9, {0x81})).epb(0, 3, payload(20));
  CHECK(read_all(*open_ng(b))[0].ts_ns == 1'500'000'000);

  NgBuilder c;  // 10^-3 s ticks
  c.shb().idb(1, 0, c.option(9, {3})).epb(0, 1234, payload(20));
  CHECK(read_all(*open_ng(c))[0].ts_ns == 1'234'000'000);
}

TEST_CASE("pcapng: resolutions finer than 10^-9 divide, and 10^-20 is refused",
          "[capture][pcapng]") {
  NgBuilder b;  // picoseconds
  b.shb().idb(1, 0, b.option(9, {12})).epb(0, 5'000'000'000'000'123ull, payload(20));
  CHECK(read_all(*open_ng(b))[0].ts_ns == 5'000'000'000'000);

  NgBuilder c;
  c.shb().idb(1, 0, c.option(9, {20})).epb(0, 1, payload(20));
  expect_failure(c.bytes(), ErrorCode::unsupported, shb_size, 0, "if_tsresol");
}

TEST_CASE("pcapng: if_tsoffset seconds are added to timestamps", "[capture][pcapng]") {
  NgBuilder b;
  b.shb().idb(1, 0, b.option(14, b.u64(100))).epb(0, 5, payload(20));
  CHECK(read_all(*open_ng(b))[0].ts_ns == 100'000'005'000);

  const auto packets = make_packets(3);
  synth::PcapngOptions opt;
  opt.interfaces[0].tsoffset_s = 1'600'000'000;
  const auto frames = read_all(*open_ok(synth::write_pcapng(packets, opt)));
  REQUIRE(frames.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) CHECK(frames[i].ts_ns == packets[i].ts.ns);
}

TEST_CASE("pcapng: a new section may switch byte order and resets interfaces",
          "[capture][pcapng]") {
  NgBuilder b(false);
  b.shb().idb(1).idb(101).epb(1, 1, payload(30, 1));
  b.set_order(true).shb().idb(113).epb(0, 2, payload(40, 2));
  auto src = open_ng(b);
  const auto frames = read_all(*src);
  REQUIRE(frames.size() == 2);
  CHECK(frames[0].link_type == 101);
  CHECK(frames[0].interface_id == 1);
  CHECK(frames[0].bytes == payload(30, 1));
  CHECK(frames[1].link_type == 113);
  CHECK(frames[1].interface_id == 0);
  CHECK(frames[1].ts_ns == 2'000);
  CHECK(frames[1].bytes == payload(40, 2));
  CHECK(src->status() == InputStatus::ok);
  CHECK(src->info().link_types == std::vector<std::uint32_t>{1, 101, 113});

  // Interface 1 existed only in the first section.
  NgBuilder c(false);
  c.shb().idb(1).idb(101).epb(1, 1, payload(30));
  const std::uint64_t bad = c.bytes().size() + shb_size + idb_size;
  c.set_order(true).shb().idb(113).epb(1, 2, payload(40));
  expect_failure(c.bytes(), ErrorCode::corrupt, bad, 1, "interface 1");
}

TEST_CASE("pcapng: simple packet blocks use interface 0 and its snaplen", "[capture][pcapng]") {
  NgBuilder b;
  b.shb().idb(101, 64).epb(0, 7, payload(20)).spb(100, payload(100)).spb(30, payload(30));
  const auto frames = read_all(*open_ng(b));
  REQUIRE(frames.size() == 3);
  CHECK(frames[1].bytes.size() == 64);  // snaplen
  CHECK(frames[1].orig_len == 100);
  CHECK(frames[1].link_type == 101);
  CHECK(frames[1].ts_ns == 7'000);      // no timestamp in an SPB: the previous packet's
  CHECK(frames[2].bytes.size() == 30);  // orig_len, not the padded room of 32
  CHECK(frames[2].bytes == payload(30));

  NgBuilder c;
  c.shb().spb(30, payload(30));
  expect_failure(c.bytes(), ErrorCode::corrupt, shb_size, 0, "before any interface");
}

TEST_CASE("pcapng: obsolete packet blocks are read", "[capture][pcapng]") {
  NgBuilder b;
  b.shb().idb(1).idb(113).pb(1, 42, payload(50));
  const auto frames = read_all(*open_ng(b));
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].interface_id == 1);
  CHECK(frames[0].link_type == 113);
  CHECK(frames[0].ts_ns == 42'000);
  CHECK(frames[0].bytes == payload(50));
}

TEST_CASE("pcapng: unknown blocks are skipped", "[capture][pcapng]") {
  NgBuilder b;
  b.shb().block(0x00000BAD, payload(13 + 3)).idb(1).block(4, payload(8)).epb(0, 1, payload(20));
  b.block(0x80000001, {}).epb(0, 2, payload(21));
  auto src = open_ng(b);
  const auto frames = read_all(*src);
  REQUIRE(frames.size() == 2);
  CHECK(frames[1].frame_no == 2);
  CHECK(frames[1].bytes == payload(21));
  CHECK(src->status() == InputStatus::ok);
}

TEST_CASE("pcapng: interface statistics give the last drop count per interface",
          "[capture][pcapng]") {
  NgBuilder b;
  b.shb().idb(1).idb(1).epb(0, 1, payload(20)).isb(0, 5).isb(0, 7).isb(1, 3).isb(9, 1000);
  auto src = open_ng(b);
  CHECK(read_all(*src).size() == 1);
  CHECK(src->info().interface_drops == 10);  // 7 (cumulative, last wins) + 3; id 9 unknown

  NgBuilder c;  // sections add up
  c.shb().idb(1).isb(0, 4).shb().idb(1).isb(0, 6);
  auto two = open_ng(c);
  CHECK(read_all(*two).empty());
  CHECK(two->info().interface_drops == 10);
}

TEST_CASE("pcapng: bad block lengths are corrupt at the block's offset", "[capture][pcapng]") {
  const std::uint64_t at = shb_size + idb_size + 52;  // after one EPB of 20 bytes
  auto base = [] {
    NgBuilder b;
    b.shb().idb(1).epb(0, 1, payload(20));
    return b;
  };
  SECTION("not a multiple of 4") {
    NgBuilder b = base();
    b.block(0xBAD, payload(16), 30);
    expect_failure(b.bytes(), ErrorCode::corrupt, at, 1, "not a multiple of 4");
  }
  SECTION("below 12") {
    NgBuilder b = base();
    b.block(0xBAD, payload(16), 8);
    expect_failure(b.bytes(), ErrorCode::corrupt, at, 1, "below the minimum of 12");
  }
  SECTION("below an EPB's fixed part") {
    NgBuilder b = base();
    b.block(6, payload(12));
    expect_failure(b.bytes(), ErrorCode::corrupt, at, 1, "below the minimum of 32");
  }
  SECTION("trailer mismatch") {
    NgBuilder b = base();
    b.block(0xBAD, payload(16), 0, 24);
    expect_failure(b.bytes(), ErrorCode::corrupt, at, 1, "trailing length 24");
  }
  SECTION("huge length is refused without reading") {
    NgBuilder b = base();
    b.block(6, payload(16), 0xFFFFFFF0u);
    expect_failure(b.bytes(), ErrorCode::corrupt, at, 1, "exceeds the limit");
  }
  SECTION("captured length beyond the block") {
    NgBuilder b = base();
    NgBuilder epb;
    epb.epb(0, 1, payload(20));
    Bytes bytes = b.bytes();
    Bytes e = epb.bytes();
    e[20] = 200;  // caplen 200 in a 52-byte block
    bytes.insert(bytes.end(), e.begin(), e.end());
    expect_failure(bytes, ErrorCode::corrupt, at, 1, "room for 20");
  }
  SECTION("a block that runs past the end is truncated") {
    NgBuilder b = base();
    b.epb(0, 2, payload(100));
    Bytes bytes = b.bytes();
    bytes.resize(bytes.size() - 40);
    expect_failure(bytes, ErrorCode::truncated, at, 1, "header says 132 bytes, only 92 remain");
  }
  SECTION("a block header cut short is truncated") {
    Bytes bytes = base().bytes();
    bytes.insert(bytes.end(), {6, 0, 0, 0, 32});
    expect_failure(bytes, ErrorCode::truncated, at, 1, "needs 12 bytes, only 5 remain");
  }
  SECTION("near miss: the same file intact reads cleanly") {
    NgBuilder b = base();
    b.block(0xBAD, payload(16));
    auto src = open_ok(b.bytes());
    CHECK(read_all(*src).size() == 1);
    CHECK(src->status() == InputStatus::ok);
  }
}

TEST_CASE("pcapng: packets before any interface are corrupt", "[capture][pcapng]") {
  NgBuilder b;
  b.shb().epb(0, 1, payload(20));
  expect_failure(b.bytes(), ErrorCode::corrupt, shb_size, 0, "refers to interface 0");
}

TEST_CASE("pcapng: section headers are validated", "[capture][pcapng]") {
  NgBuilder v2;
  v2.shb(2).idb(1);
  auto r = open_capture_memory(v2.bytes(), "v2.pcapng", 0);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::unsupported);
  CHECK_THAT(r.error().message, Catch::Contains("v2.pcapng") && Catch::Contains("2.0"));

  NgBuilder bad_bom;
  bad_bom.shb().idb(1).epb(0, 1, payload(20));
  Bytes bytes = bad_bom.bytes();
  const std::size_t second_shb = bytes.size();
  NgBuilder next;
  next.shb();
  bytes.insert(bytes.end(), next.bytes().begin(), next.bytes().end());
  bytes[second_shb + 8] = 0x99;
  expect_failure(bytes, ErrorCode::corrupt, second_shb, 1, "byte-order magic");
}

TEST_CASE("pcapng: an option overrunning its block is corrupt", "[capture][pcapng]") {
  NgBuilder b;
  Bytes options = b.option(2, payload(8));
  options[2] = 200;  // if_name claims 200 bytes
  b.shb().idb(1, 0, options).epb(0, 1, payload(20));
  expect_failure(b.bytes(), ErrorCode::corrupt, shb_size, 0, "overruns");
}
