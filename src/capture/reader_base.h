// Private to the capture layer: what the pcap and pcapng readers share — the input buffer, the
// byte order of the current file/section, and how the input ended.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>

#include "capture/byte_stream.h"
#include "lastack/capture/packet_source.h"

namespace lastack::capture {

// Integer loads in the byte order the file was written in (pcap: the magic's order; pcapng: the
// section header's byte-order magic). Native loads plus an optional swap: no per-byte shifts.
struct FileEndian {
  bool swap = false;

  static FileEndian of(bool file_big_endian) {
    return FileEndian{file_big_endian != (std::endian::native == std::endian::big)};
  }
  [[nodiscard]] std::uint16_t u16(const std::uint8_t* p) const {
    std::uint16_t v;
    std::memcpy(&v, p, 2);
    return swap ? __builtin_bswap16(v) : v;
  }
  [[nodiscard]] std::uint32_t u32(const std::uint8_t* p) const {
    std::uint32_t v;
    std::memcpy(&v, p, 4);
    return swap ? __builtin_bswap32(v) : v;
  }
  [[nodiscard]] std::uint64_t u64(const std::uint8_t* p) const {
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    return swap ? __builtin_bswap64(v) : v;
  }
};

class ReaderBase : public PacketSource {
 public:
  ReaderBase(InputBuffer buffer, InputInfo info, std::uint32_t input)
      : buf_(std::move(buffer)), info_(std::move(info)), input_(input) {}

  [[nodiscard]] InputStatus status() const final { return status_; }
  [[nodiscard]] const Error& error() const final { return error_; }
  [[nodiscard]] const InputInfo& info() const final { return info_; }

 protected:
  // The input ended where a record (header of `header_size` bytes) should start: a clean end,
  // unless the bytes left are too few for a header or the (compressed) stream failed.
  bool end_at_boundary(std::uint64_t offset, const std::string& where, std::size_t header_size,
                       const char* header_name);
  // The input ended inside a record: truncated (or error when the stream failed).
  bool cut_inside(std::uint64_t offset, std::string message);
  // Stops reading with `e` (ErrorCode::truncated → InputStatus::truncated, else error).
  bool stop(Error e);

  void note_link_type(std::uint32_t link_type);

  InputBuffer buf_;
  InputInfo info_;
  std::uint32_t input_;
  std::uint64_t frame_no_ = 0;
  bool done_ = false;

 private:
  InputStatus status_ = InputStatus::ok;
  Error error_;
};

}  // namespace lastack::capture
