// Reading ahead on a thread (capture/read_ahead.h): an InputBuffer that reads ahead must give
// the parser exactly what one reading in line gives, at every chunk boundary, for records
// longer than a chunk's gap and than a chunk, and up to a stream's failure; and gzip files on
// disk (the inputs that read ahead) must read as the same capture in memory does.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <random>

#include "capture/byte_stream.h"
#include "capture/read_ahead.h"
#include "capture_test_helpers.h"

using namespace lastack;
using namespace lastack::capture;
using namespace lastack::capture::testing;

namespace {

// Hands out `bytes` in pieces of pseudo-random size (1 byte to a few chunks), then fails with
// an io error after `fail_at` bytes when that is set.
class PieceStream final : public ByteStream {
 public:
  PieceStream(Bytes bytes, std::uint32_t seed, std::size_t fail_at = SIZE_MAX)
      : bytes_(std::move(bytes)), rng_(seed), fail_at_(fail_at) {}

  Result<std::size_t> read(std::uint8_t* dst, std::size_t n) override {
    const std::size_t end = std::min(bytes_.size(), fail_at_);
    if (pos_ == end && fail_at_ != SIZE_MAX) return make_error(ErrorCode::io, "piece: failed");
    std::uniform_int_distribution<std::size_t> piece(1, 3 * ReadAhead::kChunkBytes);
    const std::size_t k = std::min({n, end - pos_, piece(rng_) % 4 == 0 ? 1 : piece(rng_)});
    std::memcpy(dst, bytes_.data() + pos_, k);
    pos_ += k;
    return k;
  }

 private:
  Bytes bytes_;
  std::mt19937 rng_;
  std::size_t fail_at_;
  std::size_t pos_ = 0;
};

Bytes pattern(std::size_t n) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>((i * 2654435761U) >> 13);
  return b;
}

// Drives both buffers with the same asks and consumptions and compares every answer. At the
// end of the input (an ensure that fails), what is left must be the same too.
void drive_alike(InputBuffer& ahead, InputBuffer& model, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<std::size_t> small(1, 2000);
  std::uniform_int_distribution<std::size_t> large(ReadAhead::kGapBytes - 100,
                                                   ReadAhead::kChunkBytes * 2);
  for (int step = 0; step < 100'000; ++step) {
    const std::size_t n = rng() % 50 == 0 ? large(rng) : small(rng);
    const bool a = ahead.ensure(n);
    const bool m = model.ensure(n);
    REQUIRE(a == m);
    REQUIRE(ahead.offset() == model.offset());
    // How much lies buffered beyond n differs; n bytes, or at the end all that is left, agree.
    if (!a) REQUIRE(ahead.available() == model.available());
    const std::size_t k = std::min(ahead.available(), n);
    REQUIRE(std::memcmp(ahead.cur(), model.cur(), k) == 0);
    if (!a) break;
    const std::size_t used = std::uniform_int_distribution<std::size_t>(1, n)(rng);
    ahead.consume(used);
    model.consume(used);
  }
  CHECK(ahead.available() == model.available());
  CHECK(ahead.offset() == model.offset());
  CHECK(ahead.offset() + ahead.available() > 0);  // the walk went somewhere
}

}  // namespace

TEST_CASE("read ahead: the parser sees what reading in line gives, at every boundary",
          "[capture][read_ahead]") {
  const Bytes bytes = pattern(6u << 20);  // 24 chunks
  for (std::uint32_t seed : {1U, 2U, 3U}) {
    INFO("seed " << seed);
    auto ahead = InputBuffer::from_stream(std::make_unique<PieceStream>(bytes, seed),
                                          ByteView(bytes.data(), 0), /*read_ahead=*/true);
    auto model = InputBuffer::from_memory(bytes);
    drive_alike(ahead, model, seed);
    CHECK(ahead.offset() + ahead.available() == bytes.size());  // read to the end
    CHECK(ahead.stream_error() == nullptr);
  }
}

TEST_CASE("read ahead: records longer than the gap and than a chunk are copied whole",
          "[capture][read_ahead]") {
  const Bytes bytes = pattern(3u << 20);
  auto ahead = InputBuffer::from_stream(std::make_unique<PieceStream>(bytes, 9),
                                        ByteView(bytes.data(), 0), true);
  std::size_t at = 0;
  for (std::size_t n : {std::size_t{100}, std::size_t{300'000}, std::size_t{70'000},
                        std::size_t{1'000'000}, std::size_t{5}, std::size_t{600'000}}) {
    REQUIRE(ahead.ensure(n));
    REQUIRE(ahead.offset() == at);
    CHECK(std::memcmp(ahead.cur(), bytes.data() + at, n) == 0);
    ahead.consume(n);
    at += n;
  }
  REQUIRE(ahead.ensure(bytes.size() - at));
  CHECK_FALSE(ahead.ensure(bytes.size() - at + 1));
  CHECK(std::memcmp(ahead.cur(), bytes.data() + at, bytes.size() - at) == 0);
}

TEST_CASE("read ahead: a failing stream keeps what came before the failure",
          "[capture][read_ahead]") {
  const Bytes bytes = pattern(2u << 20);
  for (std::size_t fail_at : {std::size_t{300'000}, std::size_t{1'234'567}, bytes.size()}) {
    INFO("fails at " << fail_at);
    auto ahead = InputBuffer::from_stream(std::make_unique<PieceStream>(bytes, 4, fail_at),
                                          ByteView(bytes.data(), 0), true);
    auto model = InputBuffer::from_stream(std::make_unique<PieceStream>(bytes, 5, fail_at),
                                          ByteView(bytes.data(), 0), false);
    drive_alike(ahead, model, 7);
    REQUIRE(ahead.stream_error() != nullptr);
    REQUIRE(model.stream_error() != nullptr);
    CHECK(ahead.stream_error()->message == model.stream_error()->message);
    CHECK(ahead.offset() + ahead.available() == fail_at);
  }
}

TEST_CASE("read ahead: stopping early (a cancelled run) ends the reading thread",
          "[capture][read_ahead]") {
  const Bytes bytes = pattern(8u << 20);
  auto ahead = InputBuffer::from_stream(std::make_unique<PieceStream>(bytes, 6),
                                        ByteView(bytes.data(), 0), true);
  REQUIRE(ahead.ensure(10));
  ahead.consume(10);
  REQUIRE(ahead.ensure(ReadAhead::kChunkBytes));  // the second refill starts the thread
  CHECK(std::memcmp(ahead.cur(), bytes.data() + 10, ReadAhead::kChunkBytes) == 0);
  // Destroyed here with most of the input unread: the destructor stops and joins the thread.
}

TEST_CASE("read ahead: gzip files on disk read as the same capture in memory",
          "[capture][read_ahead][file]") {
  const auto dir = temp_dir("ahead");
  const Bytes pcap = synth::write_pcap(make_packets(1200));  // ~5 MB: many chunks
  NgBuilder ng;
  ng.shb().idb(1);
  for (std::uint64_t i = 0; i < 300; ++i) {
    // Blocks from 100 bytes to past a chunk, so that records straddle chunks and gaps.
    ng.epb(0, i,
           Bytes(100 + (i * 7919) % (ReadAhead::kChunkBytes + 5000), static_cast<std::uint8_t>(i)));
  }
  for (const Bytes& plain : {pcap, ng.bytes()}) {
    const Bytes packed = gzip(plain);
    for (const std::size_t keep : {packed.size(), packed.size() * 3 / 4}) {  // whole, then cut
      INFO("size " << plain.size() << ", keeping " << keep << " of " << packed.size());
      const Bytes cut(packed.begin(), packed.begin() + static_cast<std::ptrdiff_t>(keep));
      const std::string path = (dir / "capture.gz").string();
      REQUIRE(synth::write_file(path, cut));
      auto from_file = open_capture(path, 0);
      REQUIRE(from_file.ok());
      auto in_memory = open_ok(cut);
      const auto a = read_all(*from_file.value());
      const auto b = read_all(*in_memory);
      REQUIRE(a.size() == b.size());
      std::size_t differ = 0;
      for (std::size_t i = 0; i < a.size(); ++i) {
        differ +=
            (a[i].bytes != b[i].bytes || a[i].offset != b[i].offset || a[i].ts_ns != b[i].ts_ns)
                ? 1
                : 0;
      }
      CHECK(differ == 0);
      CHECK(from_file.value()->status() == in_memory->status());
      if (keep != packed.size()) {
        CHECK(from_file.value()->status() == InputStatus::truncated);
        CHECK(from_file.value()->error().offset == in_memory->error().offset);
      }
    }
  }
  std::filesystem::remove_all(dir);
}
