// Views over bytes and a bounds-checked cursor. Every read checks the remaining length first,
// so a lying length field can never read past the buffer (libpcap's and tcpdump's CVEs live in
// exactly such reads). A view is only as valid as the buffer it points into.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace lastack {

using ByteView = std::span<const std::uint8_t>;

inline std::uint16_t load_u16be(const std::uint8_t* p) {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
inline std::uint32_t load_u32be(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}
inline std::uint16_t load_u16le(const std::uint8_t* p) {
  return static_cast<std::uint16_t>(p[0] | (p[1] << 8));
}
inline std::uint32_t load_u32le(const std::uint8_t* p) {
  return std::uint32_t{p[0]} | (std::uint32_t{p[1]} << 8) | (std::uint32_t{p[2]} << 16) |
         (std::uint32_t{p[3]} << 24);
}
inline std::uint64_t load_u64le(const std::uint8_t* p) {
  return std::uint64_t{load_u32le(p)} | (std::uint64_t{load_u32le(p + 4)} << 32);
}

// Reads fixed-width fields from a view; every read returns false (and reads nothing) when
// fewer bytes remain than asked for.
class ByteCursor {
 public:
  explicit ByteCursor(ByteView bytes) : bytes_(bytes) {}

  [[nodiscard]] std::size_t remaining() const { return bytes_.size() - pos_; }
  [[nodiscard]] std::size_t position() const { return pos_; }
  [[nodiscard]] ByteView rest() const { return bytes_.subspan(pos_); }

  bool skip(std::size_t n) {
    if (remaining() < n) return false;
    pos_ += n;
    return true;
  }
  bool read_u8(std::uint8_t& out) {
    if (remaining() < 1) return false;
    out = bytes_[pos_++];
    return true;
  }
  bool read_u16be(std::uint16_t& out) { return read(out, load_u16be, 2); }
  bool read_u32be(std::uint32_t& out) { return read(out, load_u32be, 4); }
  bool read_u16le(std::uint16_t& out) { return read(out, load_u16le, 2); }
  bool read_u32le(std::uint32_t& out) { return read(out, load_u32le, 4); }
  bool read_view(std::size_t n, ByteView& out) {
    if (remaining() < n) return false;
    out = bytes_.subspan(pos_, n);
    pos_ += n;
    return true;
  }

 private:
  template <class T, class F>
  bool read(T& out, F load, std::size_t n) {
    if (remaining() < n) return false;
    out = load(bytes_.data() + pos_);
    pos_ += n;
    return true;
  }

  ByteView bytes_;
  std::size_t pos_ = 0;
};

}  // namespace lastack
