// Private to the capture layer: where capture bytes come from (a file descriptor, or a gzip/zstd
// decoder over one) and the refillable buffer the record readers parse from.
//
// The readers never see the stream directly: they ask the InputBuffer for "at least n bytes at
// the current position", which in the steady state is one compare against data already in a
// 256 KiB buffer. The virtual ByteStream::read() runs once per refill, not per record.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "lastack/core/byte_cursor.h"
#include "lastack/core/result.h"

namespace lastack::capture {

class ByteStream {
 public:
  ByteStream() = default;
  ByteStream(const ByteStream&) = delete;
  ByteStream& operator=(const ByteStream&) = delete;
  virtual ~ByteStream() = default;

  // Reads up to `n` (> 0) bytes into `dst`: the count, 0 at a clean end, or an error
  // (ErrorCode::truncated when a compressed stream is cut short, io/corrupt otherwise).
  virtual Result<std::size_t> read(std::uint8_t* dst, std::size_t n) = 0;
};

// Reads a file descriptor with read(2); closes it on destruction when `owned`.
std::unique_ptr<ByteStream> make_fd_stream(int fd, bool owned, std::string name);
// Reads bytes held in memory (the compressed bytes of open_capture_memory).
std::unique_ptr<ByteStream> make_memory_stream(std::vector<std::uint8_t> bytes);
// Decoders over `inner`. `prefix` holds bytes already taken from `inner` to sniff the magic.
std::unique_ptr<ByteStream> make_gzip_stream(std::unique_ptr<ByteStream> inner, ByteView prefix,
                                             std::string name);
std::unique_ptr<ByteStream> make_zstd_stream(std::unique_ptr<ByteStream> inner, ByteView prefix,
                                             std::string name);

// Compression detected from the first bytes (RFC 1952 §2.3.1 gzip ID1 ID2 = 1f 8b; RFC 8878
// §3.1.1 zstd frame magic 0xFD2FB528 little-endian = 28 b5 2f fd). "" when neither.
const char* sniff_compression(ByteView head);

class ReadAhead;

// A window over the decompressed input. Memory inputs are parsed in place (zero copy); streams
// read ahead (read_ahead.h) are parsed in the reading thread's chunks; other streams are read
// into a buffer that is compacted on refill and grows only as far as one record needs,
// and only as data actually arrives, so a lying length field cannot make it allocate more than
// about twice the bytes really present.
class InputBuffer {
 public:
  static constexpr std::size_t initial_capacity = std::size_t{256} << 10;  // 256 KiB

  InputBuffer();
  InputBuffer(InputBuffer&&) noexcept;
  InputBuffer& operator=(InputBuffer&&) noexcept;
  InputBuffer(const InputBuffer&) = delete;
  InputBuffer& operator=(const InputBuffer&) = delete;
  ~InputBuffer();  // stops the reading thread, if any

  static InputBuffer from_memory(std::vector<std::uint8_t> bytes);
  // `prefix`: bytes already read from `stream` while sniffing; they come first. With
  // `read_ahead`, the stream is read on a thread of its own (ReadAhead) from the second refill
  // on, once the input is being parsed (an input of a merge that waits for its turn keeps only
  // its first buffer): for regular files, whose reads never block for long.
  static InputBuffer from_stream(std::unique_ptr<ByteStream> stream, ByteView prefix,
                                 bool read_ahead = false);

  // True when at least `n` bytes are available at cur(); false when the input ends (or fails:
  // see stream_error()) first. Callers bound `n` before asking.
  bool ensure(std::size_t n) { return static_cast<std::size_t>(end_ - pos_) >= n || fill(n); }
  [[nodiscard]] const std::uint8_t* cur() const { return pos_; }
  [[nodiscard]] std::size_t available() const { return static_cast<std::size_t>(end_ - pos_); }
  void consume(std::size_t n) { pos_ += n; }
  // Offset of cur() in the (decompressed) input.
  [[nodiscard]] std::uint64_t offset() const {
    return base_offset_ + static_cast<std::uint64_t>(pos_ - begin_);
  }
  // Set once the stream failed or was cut short; data before the fault stays readable.
  [[nodiscard]] const Error* stream_error() const { return has_error_ ? &error_ : nullptr; }

 private:
  bool fill(std::size_t n);
  void make_room(std::size_t n);
  bool fill_ahead(std::size_t n);
  void take_chunk(std::uint8_t* data, std::size_t size);
  void end_ahead();

  std::vector<std::uint8_t> memory_;       // memory input: parsed in place
  std::unique_ptr<std::uint8_t[]> store_;  // stream input: default-initialised, never zeroed
  std::size_t capacity_ = 0;
  const std::uint8_t* begin_ = nullptr;  // start of the window (memory_ or store_)
  const std::uint8_t* pos_ = nullptr;
  const std::uint8_t* end_ = nullptr;
  std::uint64_t base_offset_ = 0;  // input offset of begin_
  std::unique_ptr<ByteStream> stream_;
  std::unique_ptr<ReadAhead> ahead_;  // once reading ahead: the stream is its
  std::vector<std::uint8_t> spill_;   // a record longer than a chunk's gap, copied whole
  bool read_ahead_ = false;           // read ahead from the second refill on
  int refills_ = 0;
  bool window_is_chunk_ = false;  // the window is ahead_'s oldest chunk not given back
  bool eof_ = true;
  bool has_error_ = false;
  Error error_;
};

}  // namespace lastack::capture
