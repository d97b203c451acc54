// The synthetic writers produce the exact bytes the formats specify.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "lastack/synth/capture_writer.h"

using lastack::Timestamp;
using namespace lastack::synth;
using Bytes = std::vector<std::uint8_t>;

namespace {

Bytes slice(const Bytes& b, std::size_t at, std::size_t n) {
  REQUIRE(at + n <= b.size());
  return Bytes(b.begin() + static_cast<std::ptrdiff_t>(at),
               b.begin() + static_cast<std::ptrdiff_t>(at + n));
}

SynthPacket packet(std::int64_t ns, std::size_t size, std::uint32_t interface_id = 0) {
  SynthPacket p;
  p.ts = Timestamp{ns};
  p.bytes.assign(size, 0xee);
  p.interface_id = interface_id;
  return p;
}

}  // namespace

TEST_CASE("write_pcap: header and record layout in both byte orders", "[synth][writer]") {
  const std::vector<SynthPacket> packets{packet(3'000'000'123'456'789'789, 5)};
  const Bytes le = write_pcap(packets);
  REQUIRE(le.size() == 24 + 16 + 5);
  CHECK(slice(le, 0, 8) == Bytes{0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0});
  CHECK(slice(le, 16, 8) == Bytes{0x00, 0x00, 0x04, 0x00, 1, 0, 0, 0});  // 262144, EN10MB
  // 3000000123 s, 456789 µs, caplen 5, len 5
  CHECK(slice(le, 24, 16) ==
        Bytes{0x7b, 0x5e, 0xd0, 0xb2, 0x55, 0xf8, 0x06, 0x00, 5, 0, 0, 0, 5, 0, 0, 0});

  PcapOptions opt;
  opt.nanosecond = true;
  opt.big_endian = true;
  opt.link_type = 276;
  const Bytes be = write_pcap(packets, opt);
  CHECK(slice(be, 0, 8) == Bytes{0xa1, 0xb2, 0x3c, 0x4d, 0, 2, 0, 4});
  CHECK(slice(be, 20, 4) == Bytes{0, 0, 0x01, 0x14});
  CHECK(slice(be, 28, 4) == Bytes{0x1b, 0x3a, 0x0f, 0x1d});  // 456789789 ns
}

TEST_CASE("write_pcap: snaplen cuts the data and keeps the wire length", "[synth][writer]") {
  PcapOptions opt;
  opt.snaplen = 4;
  SynthPacket p = packet(0, 10);
  p.orig_len = 1500;
  const Bytes b = write_pcap({p}, opt);
  REQUIRE(b.size() == 24 + 16 + 4);
  CHECK(slice(b, 32, 8) == Bytes{4, 0, 0, 0, 0xdc, 0x05, 0, 0});
}

TEST_CASE("write_pcapng: SHB, IDB options only when not default, EPB", "[synth][writer]") {
  PcapngOptions opt;
  const Bytes plain = write_pcapng({packet(1'000'000, 3)}, opt);
  // SHB 28 + IDB 20 (no options) + EPB 32 + 4 (3 bytes padded)
  REQUIRE(plain.size() == 28 + 20 + 36);
  CHECK(slice(plain, 0, 12) == Bytes{0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a});
  CHECK(slice(plain, 28, 8) == Bytes{1, 0, 0, 0, 20, 0, 0, 0});
  CHECK(slice(plain, 48, 8) == Bytes{6, 0, 0, 0, 36, 0, 0, 0});
  CHECK(slice(plain, 60, 8) == Bytes{0, 0, 0, 0, 0xe8, 0x03, 0, 0});  // 1000 µs ticks
  CHECK(slice(plain, 80, 4) == Bytes{36, 0, 0, 0});                   // trailing length

  opt.big_endian = true;
  opt.interfaces = {PcapngInterface{1, 6, 0, 0, ""}, PcapngInterface{101, 9, 10, 128, "lo"}};
  const Bytes ng = write_pcapng({packet(10'000'000'005, 3, 1)}, opt);
  CHECK(slice(ng, 8, 4) == Bytes{0x1a, 0x2b, 0x3c, 0x4d});
  // second IDB: 20 + if_name (4+4) + if_tsresol (4+4) + if_tsoffset (4+8) + end (4) = 52
  const std::size_t idb2 = 28 + 20;
  CHECK(slice(ng, idb2, 12) == Bytes{0, 0, 0, 1, 0, 0, 0, 52, 0, 101, 0, 0});
  CHECK(slice(ng, idb2 + 12, 4) == Bytes{0, 0, 0, 128});
  CHECK(slice(ng, idb2 + 24, 5) == Bytes{0, 9, 0, 1, 9});
  const std::size_t epb = idb2 + 52;
  CHECK(slice(ng, epb + 8, 4) == Bytes{0, 0, 0, 1});               // interface 1
  CHECK(slice(ng, epb + 12, 8) == Bytes{0, 0, 0, 0, 0, 0, 0, 5});  // 5 ns after offset
}

TEST_CASE("write_file writes bytes and reports failure", "[synth][writer]") {
  const auto path = std::filesystem::temp_directory_path() / "lastack-writer-test.bin";
  const Bytes bytes{1, 2, 3, 250};
  REQUIRE(write_file(path.string(), bytes));
  std::ifstream in(path, std::ios::binary);
  const Bytes back((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(back == bytes);
  std::filesystem::remove(path);
  CHECK_FALSE(write_file("/nonexistent-dir-lastack/x.pcap", bytes));
}
