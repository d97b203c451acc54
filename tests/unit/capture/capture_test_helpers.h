// Helpers shared by the capture reader tests: reading everything from a source, synthetic
// packets, a hand builder for hostile pcapng blocks, and in-test compression.
#pragma once

#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "lastack/capture/packet_source.h"
#include "lastack/synth/capture_writer.h"

namespace lastack::capture::testing {

using Bytes = std::vector<std::uint8_t>;

// A RawFrame with its bytes copied out (RawFrame.bytes dies at the next read).
struct Frame {
  std::uint32_t input = 0;
  std::uint64_t frame_no = 0;
  std::int64_t ts_ns = 0;
  std::uint32_t link_type = 0;
  std::uint32_t interface_id = 0;
  std::uint32_t orig_len = 0;
  std::uint64_t offset = 0;
  Bytes bytes;
};

inline std::vector<Frame> read_all(PacketSource& source) {
  std::vector<Frame> frames;
  RawFrame f;
  while (source.next(f)) {
    frames.push_back(Frame{f.input, f.frame_no, f.ts.ns, f.link_type, f.interface_id, f.orig_len,
                           f.offset, Bytes(f.bytes.begin(), f.bytes.end())});
  }
  CHECK_FALSE(source.next(f));  // stays at the end
  return frames;
}

inline std::unique_ptr<PacketSource> open_ok(Bytes bytes, std::uint32_t input = 0) {
  auto r = open_capture_memory(std::move(bytes), "test.pcap", input);
  INFO((r.ok() ? std::string() : r.error().message));
  REQUIRE(r.ok());
  return std::move(r.value());
}

// n packets of distinct sizes and contents, 1.5 ms apart from a 2023 epoch time.
inline std::vector<synth::SynthPacket> make_packets(std::size_t n, std::uint32_t interface_id = 0) {
  std::vector<synth::SynthPacket> packets;
  for (std::size_t i = 0; i < n; ++i) {
    synth::SynthPacket p;
    p.ts = Timestamp{1'700'000'000'123'456'000 + static_cast<std::int64_t>(i) * 1'500'000};
    p.bytes.resize(60 + i * 7);
    for (std::size_t k = 0; k < p.bytes.size(); ++k) {
      p.bytes[k] = static_cast<std::uint8_t>(i * 31 + k);
    }
    p.interface_id = interface_id;
    packets.push_back(std::move(p));
  }
  return packets;
}

// Appends pcapng blocks by hand, in either byte order, including deliberately broken ones.
class NgBuilder {
 public:
  explicit NgBuilder(bool big_endian = false) : big_(big_endian) {}

  NgBuilder& set_order(bool big_endian) {
    big_ = big_endian;
    return *this;
  }
  NgBuilder& shb(std::uint16_t major = 1) {
    Bytes body;
    put(body, 0x1A2B3C4Du, 4);
    put(body, major, 2);
    put(body, 0, 2);
    put(body, ~std::uint64_t{0}, 8);
    return block(0x0A0D0D0A, body);
  }
  NgBuilder& idb(std::uint16_t link_type, std::uint32_t snaplen = 0, const Bytes& options = {}) {
    Bytes body;
    put(body, link_type, 2);
    put(body, 0, 2);
    put(body, snaplen, 4);
    body.insert(body.end(), options.begin(), options.end());
    return block(1, body);
  }
  NgBuilder& epb(std::uint32_t interface_id, std::uint64_t ticks, const Bytes& data,
                 std::uint32_t orig_len = 0) {
    Bytes body;
    put(body, interface_id, 4);
    put(body, ticks >> 32, 4);
    put(body, ticks & 0xFFFFFFFFu, 4);
    put(body, data.size(), 4);
    put(body, orig_len != 0 ? orig_len : data.size(), 4);
    append_padded(body, data);
    return block(6, body);
  }
  NgBuilder& spb(std::uint32_t orig_len, const Bytes& data) {
    Bytes body;
    put(body, orig_len, 4);
    append_padded(body, data);
    return block(3, body);
  }
  NgBuilder& pb(std::uint16_t interface_id, std::uint64_t ticks, const Bytes& data) {
    Bytes body;
    put(body, interface_id, 2);
    put(body, 0, 2);
    put(body, ticks >> 32, 4);
    put(body, ticks & 0xFFFFFFFFu, 4);
    put(body, data.size(), 4);
    put(body, data.size(), 4);
    append_padded(body, data);
    return block(2, body);
  }
  NgBuilder& isb(std::uint32_t interface_id, std::uint64_t if_drop) {
    Bytes body;
    put(body, interface_id, 4);
    put(body, 0, 8);
    const Bytes drop = option(5, u64(if_drop));  // isb_ifdrop
    body.insert(body.end(), drop.begin(), drop.end());
    put(body, 0, 4);
    return block(5, body);
  }
  // A block with any body; lengths default to the honest value.
  NgBuilder& block(std::uint32_t type, const Bytes& body, std::uint32_t length = 0,
                   std::uint32_t trailer = 0) {
    const auto honest = static_cast<std::uint32_t>(12 + body.size());
    put(bytes_, type, 4);
    put(bytes_, length != 0 ? length : honest, 4);
    bytes_.insert(bytes_.end(), body.begin(), body.end());
    put(bytes_, trailer != 0 ? trailer : (length != 0 ? length : honest), 4);
    return *this;
  }
  // Option bytes {code, length, value, padding} in the builder's order.
  [[nodiscard]] Bytes option(std::uint16_t code, const Bytes& value) const {
    Bytes o;
    put(o, code, 2);
    put(o, value.size(), 2);
    append_padded(o, value);
    return o;
  }
  [[nodiscard]] Bytes u64(std::uint64_t v) const {
    Bytes b;
    put(b, v, 8);
    return b;
  }
  [[nodiscard]] const Bytes& bytes() const { return bytes_; }

 private:
  void put(Bytes& out, std::uint64_t v, int n) const {
    for (int i = 0; i < n; ++i) {
      const int shift = big_ ? 8 * (n - 1 - i) : 8 * i;
      out.push_back(static_cast<std::uint8_t>(v >> shift));
    }
  }
  static void append_padded(Bytes& out, const Bytes& data) {
    out.insert(out.end(), data.begin(), data.end());
    while (out.size() % 4 != 0) out.push_back(0);
  }

  bool big_;
  Bytes bytes_;
};

inline Bytes gzip(const Bytes& in) {
  z_stream zs{};
  REQUIRE(deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  Bytes out(deflateBound(&zs, static_cast<uLong>(in.size())) + 64);
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&zs, Z_FINISH) == Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

inline Bytes zstd(const Bytes& in) {
  Bytes out(ZSTD_compressBound(in.size()));
  const std::size_t n = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), 3);
  REQUIRE_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

// A fresh directory for files this test writes.
inline std::filesystem::path temp_dir(const std::string& tag) {
  const char* base = std::getenv("LASTACK_TEST_TMP");
  std::filesystem::path dir =
      base != nullptr ? std::filesystem::path(base) : std::filesystem::temp_directory_path();
  dir /= "lastack-capture-" + tag + "-" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace lastack::capture::testing
