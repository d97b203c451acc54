// Classic pcap reading: every magic and byte order, resolution, snaplen, and hostile records.
#include "capture_test_helpers.h"

using namespace lastack;
using namespace lastack::capture;
using namespace lastack::capture::testing;

namespace {

// Byte offset of record `i` (0-based) in a pcap written from `packets` without truncation.
std::uint64_t record_offset(const std::vector<synth::SynthPacket>& packets, std::size_t i) {
  std::uint64_t at = 24;
  for (std::size_t k = 0; k < i; ++k) at += 16 + packets[k].bytes.size();
  return at;
}

void put_u32le(Bytes& b, std::size_t at, std::uint32_t v) {
  for (std::size_t i = 0; i < 4; ++i) b[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
}

}  // namespace

TEST_CASE("pcap: every magic and byte order reads back the same packets", "[capture][pcap]") {
  const auto packets = make_packets(5);
  for (bool nanosecond : {false, true}) {
    for (bool big_endian : {false, true}) {
      INFO("nanosecond=" << nanosecond << " big_endian=" << big_endian);
      synth::PcapOptions opt;
      opt.nanosecond = nanosecond;
      opt.big_endian = big_endian;
      opt.link_type = 113;
      const Bytes file = synth::write_pcap(packets, opt);
      auto src = open_ok(file, 3);
      const auto frames = read_all(*src);
      REQUIRE(frames.size() == packets.size());
      for (std::size_t i = 0; i < frames.size(); ++i) {
        CHECK(frames[i].input == 3);
        CHECK(frames[i].frame_no == i + 1);
        CHECK(frames[i].ts_ns == packets[i].ts.ns);
        CHECK(frames[i].link_type == 113);
        CHECK(frames[i].interface_id == 0);
        CHECK(frames[i].orig_len == packets[i].bytes.size());
        CHECK(frames[i].offset == record_offset(packets, i));
        CHECK(frames[i].bytes == packets[i].bytes);
      }
      CHECK(src->status() == InputStatus::ok);
      CHECK(src->error().message.empty());
      CHECK(src->info().format == Format::pcap);
      CHECK(src->info().compression.empty());
      CHECK(src->info().link_types == std::vector<std::uint32_t>{113});
      CHECK(src->info().bytes_read == file.size());
      CHECK(src->info().size_bytes == file.size());
    }
  }
}

TEST_CASE("pcap: nanosecond files keep nanoseconds, microsecond files drop them",
          "[capture][pcap]") {
  auto packets = make_packets(1);
  packets[0].ts = Timestamp{1'700'000'000'123'456'789};
  synth::PcapOptions ns;
  ns.nanosecond = true;
  CHECK(read_all(*open_ok(synth::write_pcap(packets, ns)))[0].ts_ns == 1'700'000'000'123'456'789);
  CHECK(read_all(*open_ok(synth::write_pcap(packets)))[0].ts_ns == 1'700'000'000'123'456'000);
}

TEST_CASE("pcap: snaplen-truncated records keep the wire length", "[capture][pcap]") {
  auto packets = make_packets(2);
  packets[1].bytes.resize(200);
  synth::PcapOptions opt;
  opt.snaplen = 100;
  const auto frames = read_all(*open_ok(synth::write_pcap(packets, opt)));
  REQUIRE(frames.size() == 2);
  CHECK(frames[0].bytes.size() == 60);
  CHECK(frames[0].orig_len == 60);
  CHECK(frames[1].bytes.size() == 100);
  CHECK(frames[1].orig_len == 200);
}

TEST_CASE("pcap: a caplen above len is accepted and the wire length raised", "[capture][pcap]") {
  const auto packets = make_packets(1);
  Bytes file = synth::write_pcap(packets);
  put_u32le(file, 24 + 12, 10);  // len 10 < caplen 60
  const auto frames = read_all(*open_ok(file));
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].bytes.size() == 60);
  CHECK(frames[0].orig_len == 60);
}

TEST_CASE("pcap: FCS bits in the link-type field are masked off", "[capture][pcap]") {
  Bytes file = synth::write_pcap(make_packets(1));
  put_u32le(file, 20, 0x04000000u | (4u << 28) | 1u);  // FCS present, 4 bytes, EN10MB
  auto src = open_ok(file);
  CHECK(read_all(*src)[0].link_type == 1);
  CHECK(src->info().link_types == std::vector<std::uint32_t>{1});
}

TEST_CASE("pcap: only version 2.4 is accepted", "[capture][pcap]") {
  Bytes file = synth::write_pcap(make_packets(1));
  file[6] = 3;  // minor version 2.3
  auto r = open_capture_memory(file, "old.pcap", 0);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::unsupported);
  CHECK_THAT(r.error().message, Catch::Contains("2.3") && Catch::Contains("old.pcap"));
  file[6] = 4;
  CHECK(open_capture_memory(file, "ok.pcap", 0).ok());
}

TEST_CASE("pcap: a file with only the header has no packets and is ok", "[capture][pcap]") {
  auto src = open_ok(synth::write_pcap({}));
  CHECK(read_all(*src).empty());
  CHECK(src->status() == InputStatus::ok);
  CHECK(src->info().bytes_read == 24);
}

TEST_CASE("pcap: a cut file header is a truncated open error", "[capture][pcap]") {
  Bytes file = synth::write_pcap({});
  file.resize(10);
  auto r = open_capture_memory(file, "cut.pcap", 0);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::truncated);
  CHECK_THAT(r.error().message, Catch::Contains("only 10"));
}

TEST_CASE("pcap: a last record cut inside its header is truncated, earlier frames kept",
          "[capture][pcap]") {
  const auto packets = make_packets(3);
  Bytes file = synth::write_pcap(packets);
  const std::uint64_t third = record_offset(packets, 2);
  file.resize(third + 7);
  auto src = open_ok(file);
  const auto frames = read_all(*src);
  CHECK(frames.size() == 2);
  CHECK(src->status() == InputStatus::truncated);
  CHECK(src->error().code == ErrorCode::truncated);
  CHECK(src->error().has_offset);
  CHECK(src->error().offset == third);
  CHECK(src->error().message == "record 3 at byte " + std::to_string(third) +
                                    ": record header needs 16 bytes, only 7 remain");
}

TEST_CASE("pcap: a last record cut inside its data is truncated, earlier frames kept",
          "[capture][pcap]") {
  const auto packets = make_packets(3);  // the third has 74 bytes
  Bytes file = synth::write_pcap(packets);
  const std::uint64_t third = record_offset(packets, 2);
  file.resize(third + 16 + 30);
  auto src = open_ok(file);
  CHECK(read_all(*src).size() == 2);
  CHECK(src->status() == InputStatus::truncated);
  CHECK(src->error().offset == third);
  CHECK(src->error().message ==
        "record 3 at byte " + std::to_string(third) + ": header says 74 bytes, only 30 remain");
}

TEST_CASE("pcap: an absurd caplen mid-file is corrupt, earlier frames kept", "[capture][pcap]") {
  const auto packets = make_packets(4);
  Bytes file = synth::write_pcap(packets);
  const std::uint64_t second = record_offset(packets, 1);
  put_u32le(file, second + 8, 0x7FFFFFF0u);
  auto src = open_ok(file);
  const auto frames = read_all(*src);
  CHECK(frames.size() == 1);
  CHECK(src->status() == InputStatus::error);
  CHECK(src->error().code == ErrorCode::corrupt);
  CHECK(src->error().offset == second);
  CHECK_THAT(src->error().message, Catch::Contains("record 2 at byte " + std::to_string(second)) &&
                                       Catch::Contains("2147483632") && Catch::Contains("262144"));
}

TEST_CASE("pcap: caplen limit is the larger of snaplen and 262144", "[capture][pcap]") {
  auto packets = make_packets(1);
  packets[0].bytes.assign(262144, 0xab);  // exactly the limit, snaplen 65535: accepted
  synth::PcapOptions opt;
  opt.snaplen = 0;  // written uncut; the header then says snaplen 0
  Bytes file = synth::write_pcap(packets, opt);
  auto src = open_ok(file);
  REQUIRE(read_all(*src).size() == 1);
  CHECK(src->status() == InputStatus::ok);

  packets[0].bytes.assign(262145, 0xab);  // one more: corrupt under a small snaplen ...
  file = synth::write_pcap(packets, opt);
  src = open_ok(file);
  CHECK(read_all(*src).empty());
  CHECK(src->error().code == ErrorCode::corrupt);

  opt.snaplen = 1'000'000;  // ... but fine when the file's snaplen allows it
  src = open_ok(synth::write_pcap(packets, opt));
  CHECK(read_all(*src).size() == 1);
  CHECK(src->status() == InputStatus::ok);
}
