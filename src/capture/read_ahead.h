// Private to the capture layer: decompressing a capture file on a thread of its own, ahead of
// the parser, into a ring of chunks the parser reads in place.
//
// Why: the tracking thread is the one the whole run waits for, and zlib's inflate on it added
// ~0.3 s to a 0.42 s run (1M packets, 359 MB). On another core it runs alongside the analysis,
// and the parser pays only the cache misses of reading bytes another core wrote (measured over
// a 359 MB capture: 15 ms to touch every cache line once). That price is more than plain
// read(2)s or zstd cost in line, so only gzip input is read ahead
// (packet_source.cpp has the figures). A copy from the reading thread's buffer into the
// parser's would cost about what it saves: each chunk is parsed where the reading thread put
// it, and only a record cut by a chunk's end is copied (its start, into the gap in front of the
// next chunk).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>

#include "capture/byte_stream.h"
#include "lastack/core/result.h"

namespace lastack::capture {

class ReadAhead {
 public:
  static constexpr std::size_t kChunkBytes = std::size_t{256} << 10;
  // Room in front of each chunk for the start of a record cut by the previous chunk's end:
  // 64 KiB holds any frame up to a TSO/GRO super-packet; a longer one takes the copying path.
  static constexpr std::size_t kGapBytes = std::size_t{64} << 10;
  static constexpr std::size_t kSlots = 16;

  struct Chunk {
    std::uint8_t* data = nullptr;  // kGapBytes writable bytes lie in front of it
    std::size_t size = 0;
    bool last = false;  // nothing follows: the stream ended, or failed (then `failed`)
    bool failed = false;
    Error error;  // when failed: after this chunk's data
  };

  // Starts reading `stream` from where it is. The ring is 16 chunks deep: with 4 the parser
  // waited whenever the reading thread waited for the core it shares with judging and SQLite.
  explicit ReadAhead(std::unique_ptr<ByteStream> stream);
  ReadAhead(const ReadAhead&) = delete;
  ReadAhead& operator=(const ReadAhead&) = delete;
  ~ReadAhead();  // stops the thread (it finishes the read under way) and waits for it

  // The next chunk, once read (not after one that was `last`). Chunks stay valid until given
  // back, oldest first, with release().
  Chunk& next();
  void release();

 private:
  void work();
  std::uint8_t* slot_data(std::size_t slot) const;
  void fill(Chunk& c);

  std::unique_ptr<ByteStream> stream_;
  std::uint8_t* ring_ = nullptr;  // kSlots × (gap + chunk), on huge pages
  Chunk chunks_[kSlots];
  std::mutex mutex_;
  std::condition_variable changed_;
  std::uint64_t produced_ = 0;  // chunks published
  std::uint64_t taken_ = 0;     // chunks handed out by next()
  std::uint64_t released_ = 0;  // chunks given back
  bool stop_ = false;
  std::thread worker_;
};

}  // namespace lastack::capture
