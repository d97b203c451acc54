// Opening inputs: format and compression sniffing, files, and the errors of unreadable inputs.
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "capture_test_helpers.h"

using namespace lastack;
using namespace lastack::capture;
using namespace lastack::capture::testing;

namespace {

Error open_error(Bytes bytes) {
  auto r = open_capture_memory(std::move(bytes), "input.bin", 0);
  REQUIRE_FALSE(r.ok());
  return r.error();
}

Bytes text(const std::string& s) {
  return Bytes(s.begin(), s.end());
}

// Many packets, so compressed and file inputs need several buffer refills.
std::vector<synth::SynthPacket> many_packets(std::size_t n) {
  std::vector<synth::SynthPacket> packets;
  packets.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    synth::SynthPacket p;
    p.ts = Timestamp{static_cast<std::int64_t>(i) * 1000};
    p.bytes.assign(60 + i % 1400, static_cast<std::uint8_t>(i));
    packets.push_back(std::move(p));
  }
  return packets;
}

void expect_same(const std::vector<Frame>& frames, const std::vector<synth::SynthPacket>& packets) {
  REQUIRE(frames.size() == packets.size());
  std::uint64_t offset = 24;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    if (frames[i].bytes != packets[i].bytes || frames[i].ts_ns != packets[i].ts.ns ||
        frames[i].offset != offset) {
      FAIL("frame " << i + 1 << " differs");
    }
    offset += 16 + packets[i].bytes.size();
  }
}

}  // namespace

TEST_CASE("open: empty, tiny and non-capture inputs are refused", "[capture][open]") {
  Error e = open_error({});
  CHECK(e.code == ErrorCode::bad_magic);
  CHECK_THAT(e.message, Catch::Contains("input.bin") && Catch::Contains("empty file"));

  e = open_error({0xd4, 0xc3, 0xb2});
  CHECK(e.code == ErrorCode::bad_magic);
  CHECK_THAT(e.message, Catch::Contains("only 3 bytes"));

  e = open_error(text("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"));
  CHECK(e.code == ErrorCode::bad_magic);
  CHECK_THAT(e.message, Catch::Contains("47 45 54 20") && Catch::Contains("a1b2c3d4") &&
                            Catch::Contains("a1b23c4d") && Catch::Contains("0a0d0d0a") &&
                            Catch::Contains("gzip"));

  Bytes random(4096);
  std::uint32_t x = 12345;
  for (auto& b : random) {
    x = x * 1103515245u + 12345u;
    b = static_cast<std::uint8_t>(x >> 24);
  }
  random[0] = 0x42;
  CHECK(open_error(random).code == ErrorCode::bad_magic);
}

TEST_CASE("open: gzip and zstd are detected by content and read transparently",
          "[capture][open][compression]") {
  const auto packets = many_packets(6000);  // ~4.5 MB decompressed: several buffer refills
  const Bytes pcap = synth::write_pcap(packets);
  for (const char* kind : {"gzip", "zstd"}) {
    INFO(kind);
    const Bytes packed = std::string(kind) == "gzip" ? gzip(pcap) : zstd(pcap);
    auto src = open_ok(packed);
    CHECK(src->info().compression == kind);
    CHECK(src->info().format == Format::pcap);
    expect_same(read_all(*src), packets);
    CHECK(src->status() == InputStatus::ok);
    CHECK(src->info().bytes_read == pcap.size());  // decompressed bytes
    CHECK(src->info().size_bytes == packed.size());
  }

  const Bytes ng = synth::write_pcapng(make_packets(3));
  auto src = open_ok(zstd(ng));
  CHECK(src->info().format == Format::pcapng);
  CHECK(read_all(*src).size() == 3);
}

TEST_CASE("open: concatenated gzip members read as one stream", "[capture][open][compression]") {
  const auto packets = many_packets(50);
  const Bytes pcap = synth::write_pcap(packets);
  const Bytes first(pcap.begin(), pcap.begin() + 1000);  // split mid-record on purpose
  const Bytes second(pcap.begin() + 1000, pcap.end());
  Bytes packed = gzip(first);
  const Bytes more = gzip(second);
  packed.insert(packed.end(), more.begin(), more.end());
  auto src = open_ok(packed);
  expect_same(read_all(*src), packets);
  CHECK(src->status() == InputStatus::ok);
}

TEST_CASE("open: a cut compressed stream is truncated and keeps what was decoded",
          "[capture][open][compression]") {
  const auto packets = many_packets(3000);
  const Bytes pcap = synth::write_pcap(packets);
  for (const char* kind : {"gzip", "zstd"}) {
    INFO(kind);
    Bytes packed = std::string(kind) == "gzip" ? gzip(pcap) : zstd(pcap);
    packed.resize(packed.size() / 2);
    auto src = open_ok(packed);
    const auto frames = read_all(*src);
    CHECK(frames.size() > 10);
    CHECK(frames.size() < packets.size());
    CHECK(src->status() == InputStatus::truncated);
    CHECK(src->error().code == ErrorCode::truncated);
    CHECK_THAT(src->error().message, Catch::Contains(kind) && Catch::Contains("cut short"));
  }
}

TEST_CASE("open: a gzip stream missing only its trailer is truncated after the last record",
          "[capture][open][compression]") {
  const auto packets = many_packets(20);
  const Bytes pcap = synth::write_pcap(packets);
  Bytes packed = gzip(pcap);
  packed.resize(packed.size() - 8);  // RFC 1952 CRC32 and ISIZE gone: every record decodes
  auto src = open_ok(packed);
  expect_same(read_all(*src), packets);
  CHECK(src->status() == InputStatus::truncated);
  CHECK(src->error().offset == pcap.size());
  CHECK_THAT(src->error().message, Catch::Contains("gzip stream is cut short"));
}

TEST_CASE("open: corrupt gzip data is an error", "[capture][open][compression]") {
  const Bytes pcap = synth::write_pcap(many_packets(500));
  Bytes packed = gzip(pcap);
  for (std::size_t i = packed.size() / 2; i < packed.size() / 2 + 64; ++i) packed[i] ^= 0x5a;
  auto src = open_ok(packed);
  read_all(*src);
  CHECK(src->status() == InputStatus::error);
  CHECK(src->error().code == ErrorCode::corrupt);
}

TEST_CASE("open: a compressed empty stream is an empty file", "[capture][open][compression]") {
  Error e = open_error(gzip({}));
  CHECK(e.code == ErrorCode::bad_magic);
  CHECK_THAT(e.message, Catch::Contains("empty file (after gzip)"));
}

TEST_CASE("open: files on disk, plain and compressed", "[capture][open][file]") {
  const auto dir = temp_dir("open");
  const auto packets = many_packets(4000);
  const Bytes pcap = synth::write_pcap(packets);

  const std::string plain = (dir / "plain.pcap").string();
  REQUIRE(synth::write_file(plain, pcap));
  auto r = open_capture(plain, 7);
  REQUIRE(r.ok());
  auto& src = *r.value();
  CHECK(src.info().path == plain);
  CHECK(src.info().size_bytes == pcap.size());
  RawFrame f;
  REQUIRE(src.next(f));
  CHECK(f.input == 7);
  CHECK(src.info().bytes_read == 24 + 16 + 60);  // progress follows consumption
  std::size_t n = 1;
  while (src.next(f)) ++n;
  CHECK(n == packets.size());
  CHECK(src.status() == InputStatus::ok);
  CHECK(src.info().bytes_read == pcap.size());

  const std::string packed = (dir / "rotated.1").string();  // the name says nothing
  REQUIRE(synth::write_file(packed, zstd(pcap)));
  auto z = open_capture(packed, 0);
  REQUIRE(z.ok());
  CHECK(z.value()->info().compression == "zstd");
  expect_same(read_all(*z.value()), packets);

  const std::string empty = (dir / "empty.pcap").string();
  REQUIRE(synth::write_file(empty, {}));
  auto e = open_capture(empty, 0);
  REQUIRE_FALSE(e.ok());
  CHECK_THAT(e.error().message, Catch::Contains("empty file") && Catch::Contains(empty));
  std::filesystem::remove_all(dir);
}

TEST_CASE("open: a pcapng block larger than the read buffer grows it", "[capture][open][file]") {
  const auto dir = temp_dir("big");
  NgBuilder b;
  Bytes big(3u << 20, 0x77);  // 3 MiB custom block, many times the 256 KiB buffer
  b.shb().idb(1).block(0xBAD, big).epb(0, 9, Bytes(100, 1));
  const std::string path = (dir / "big.pcapng").string();
  REQUIRE(synth::write_file(path, b.bytes()));
  auto r = open_capture(path, 0);
  REQUIRE(r.ok());
  const auto frames = read_all(*r.value());
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].bytes == Bytes(100, 1));
  CHECK(frames[0].offset == 28 + 20 + 12 + big.size());
  CHECK(r.value()->status() == InputStatus::ok);
  std::filesystem::remove_all(dir);
}

TEST_CASE("open: unreadable paths are io errors naming the path", "[capture][open][file]") {
  const auto dir = temp_dir("paths");
  const std::string missing = (dir / "nope.pcap").string();
  auto r = open_capture(missing, 0);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::io);
  CHECK_FALSE(r.error().has_offset);
  CHECK_THAT(r.error().message,
             Catch::Contains(missing) && Catch::Contains("No such file or directory"));

  auto d = open_capture(dir.string(), 0);
  REQUIRE_FALSE(d.ok());
  CHECK(d.error().code == ErrorCode::io);
  CHECK_THAT(d.error().message, Catch::Contains(dir.string()) && Catch::Contains("directory"));

  if (::geteuid() != 0) {  // root reads anything
    const std::string locked = (dir / "locked.pcap").string();
    REQUIRE(synth::write_file(locked, synth::write_pcap({})));
    ::chmod(locked.c_str(), 0);
    auto p = open_capture(locked, 0);
    REQUIRE_FALSE(p.ok());
    CHECK(p.error().code == ErrorCode::io);
    CHECK_THAT(p.error().message, Catch::Contains("Permission denied"));
  }
  std::filesystem::remove_all(dir);
}
