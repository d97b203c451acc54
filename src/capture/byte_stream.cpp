#include "capture/byte_stream.h"

#include "capture/read_ahead.h"

#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <utility>

namespace lastack::capture {
namespace {

// Compressed input is read in chunks of this size; the decoders' output goes straight into the
// InputBuffer, so this is the only extra copy of the data.
constexpr std::size_t compressed_chunk = std::size_t{256} << 10;

class FdStream final : public ByteStream {
 public:
  FdStream(int fd, bool owned, std::string name) : fd_(fd), owned_(owned), name_(std::move(name)) {}
  ~FdStream() override {
    if (owned_) ::close(fd_);
  }
  FdStream(const FdStream&) = delete;
  FdStream& operator=(const FdStream&) = delete;

  Result<std::size_t> read(std::uint8_t* dst, std::size_t n) override {
    const std::size_t want = std::min(n, std::size_t{1} << 30);
    for (;;) {
      const ssize_t got = ::read(fd_, dst, want);
      if (got >= 0) return static_cast<std::size_t>(got);
      if (errno == EINTR) continue;
      return make_error(ErrorCode::io, "cannot read " + name_ + ": " + std::strerror(errno));
    }
  }

 private:
  int fd_;
  bool owned_;
  std::string name_;
};

class MemoryStream final : public ByteStream {
 public:
  explicit MemoryStream(std::vector<std::uint8_t> bytes) : bytes_(std::move(bytes)) {}

  Result<std::size_t> read(std::uint8_t* dst, std::size_t n) override {
    const std::size_t k = std::min(n, bytes_.size() - pos_);
    if (k > 0) std::memcpy(dst, bytes_.data() + pos_, k);
    pos_ += k;
    return k;
  }

 private:
  std::vector<std::uint8_t> bytes_;
  std::size_t pos_ = 0;
};

// Compressed bytes read from the inner stream, with a cursor; shared by both decoders.
class CompressedInput {
 public:
  CompressedInput(std::unique_ptr<ByteStream> inner, ByteView prefix)
      : inner_(std::move(inner)), buf_(std::max(compressed_chunk, prefix.size())) {
    std::copy(prefix.begin(), prefix.end(), buf_.begin());
    end_ = prefix.size();
  }

  [[nodiscard]] const std::uint8_t* data() const { return buf_.data() + pos_; }
  [[nodiscard]] std::size_t size() const { return end_ - pos_; }
  [[nodiscard]] bool at_eof() const { return eof_; }
  void consume(std::size_t n) {
    pos_ += n;
    consumed_ += n;
  }
  [[nodiscard]] std::uint64_t consumed() const { return consumed_; }

  // Reads until at least `k` bytes are buffered or the inner stream ends; keeps what is left.
  Status fill(std::size_t k) {
    if (pos_ > 0) {
      std::memmove(buf_.data(), buf_.data() + pos_, end_ - pos_);
      end_ -= pos_;
      pos_ = 0;
    }
    while (end_ < k && !eof_) {
      auto got = inner_->read(buf_.data() + end_, buf_.size() - end_);
      if (!got) return got.error();
      if (got.value() == 0) eof_ = true;
      end_ += got.value();
    }
    return {};
  }

 private:
  std::unique_ptr<ByteStream> inner_;
  std::vector<std::uint8_t> buf_;
  std::size_t pos_ = 0;
  std::size_t end_ = 0;
  std::uint64_t consumed_ = 0;
  bool eof_ = false;
};

// Shared shape of the decoders: decode into dst until it is full or the input ends; an error
// met after some output was produced is held back and returned by the next call, so the data
// before a cut is still delivered.
class DecoderStream : public ByteStream {
 public:
  Result<std::size_t> read(std::uint8_t* dst, std::size_t n) final {
    if (has_pending_) return pending_;
    std::size_t produced = 0;
    Status st = decode(dst, n, produced);
    if (st.ok() || produced == 0) {
      if (!st.ok()) return st.error();
      return produced;
    }
    pending_ = st.error();
    has_pending_ = true;
    return produced;
  }

 protected:
  virtual Status decode(std::uint8_t* dst, std::size_t n, std::size_t& produced) = 0;

 private:
  Error pending_;
  bool has_pending_ = false;
};

std::string cut_message(const std::string& name, const char* what, std::uint64_t at) {
  return name + ": " + what + " stream is cut short after " + std::to_string(at) +
         " compressed bytes";
}

// RFC 1952 gzip via zlib. A .gz file may hold several members back to back (`cat a.gz b.gz`,
// pigz, log rotation); gzip(1) decompresses them as one stream, and so do we.
class GzipStream final : public DecoderStream {
 public:
  GzipStream(std::unique_ptr<ByteStream> inner, ByteView prefix, std::string name)
      : in_(std::move(inner), prefix), name_(std::move(name)) {
    // 15 + 16: the largest window, gzip wrapper only (zlib.h, inflateInit2).
    init_ok_ = inflateInit2(&zs_, 15 + 16) == Z_OK;
  }
  ~GzipStream() override {
    if (init_ok_) inflateEnd(&zs_);
  }
  GzipStream(const GzipStream&) = delete;
  GzipStream& operator=(const GzipStream&) = delete;

 protected:
  Status decode(std::uint8_t* dst, std::size_t n, std::size_t& produced) override {
    if (!init_ok_) return make_error(ErrorCode::io, name_ + ": cannot initialise zlib");
    while (produced < n && !finished_) {
      if (member_done_) {
        Status st = start_next_member();
        if (!st) return st;
        continue;
      }
      if (in_.size() == 0) {
        Status st = in_.fill(1);
        if (!st) return st;
        if (in_.size() == 0) {
          return make_error(ErrorCode::truncated, cut_message(name_, "gzip", in_.consumed()));
        }
      }
      Status st = inflate_some(dst + produced, n - produced, produced);
      if (!st) return st;
    }
    return {};
  }

 private:
  Status inflate_some(std::uint8_t* out, std::size_t room, std::size_t& produced) {
    zs_.next_in = const_cast<Bytef*>(in_.data());  // zlib's API is not const-correct
    zs_.avail_in = static_cast<uInt>(std::min<std::size_t>(in_.size(), UINT_MAX));
    zs_.next_out = out;
    zs_.avail_out = static_cast<uInt>(std::min<std::size_t>(room, UINT_MAX));
    const uInt in_before = zs_.avail_in;
    const uInt out_before = zs_.avail_out;
    const int rc = inflate(&zs_, Z_NO_FLUSH);
    in_.consume(in_before - zs_.avail_in);
    produced += out_before - zs_.avail_out;
    if (rc == Z_STREAM_END) {
      member_done_ = true;
      return {};
    }
    if (rc == Z_OK || rc == Z_BUF_ERROR) return {};
    return make_error(ErrorCode::corrupt, name_ + ": gzip data is corrupt near compressed byte " +
                                              std::to_string(in_.consumed()) + " (zlib: " +
                                              (zs_.msg != nullptr ? zs_.msg : "error") + ")");
  }

  // After a member's trailer: another member follows only if the next bytes are the gzip ID.
  // Anything else (tape padding, junk) ends the stream, as gzip(1) ignores trailing garbage.
  Status start_next_member() {
    Status st = in_.fill(2);
    if (!st) return st;
    if (in_.size() < 2 || in_.data()[0] != 0x1f || in_.data()[1] != 0x8b) {
      finished_ = true;
      return {};
    }
    inflateReset(&zs_);
    member_done_ = false;
    return {};
  }

  CompressedInput in_;
  std::string name_;
  z_stream zs_{};
  bool init_ok_ = false;
  bool member_done_ = false;
  bool finished_ = false;
};

// RFC 8878 zstd via libzstd's streaming decoder, which already handles concatenated and
// skippable frames. ZSTD_decompressStream returns 0 exactly when a frame is fully decoded and
// flushed, so input ending while it is non-zero means the last frame was cut.
class ZstdStream final : public DecoderStream {
 public:
  ZstdStream(std::unique_ptr<ByteStream> inner, ByteView prefix, std::string name)
      : in_(std::move(inner), prefix), name_(std::move(name)), ds_(ZSTD_createDStream()) {}
  ~ZstdStream() override { ZSTD_freeDStream(ds_); }
  ZstdStream(const ZstdStream&) = delete;
  ZstdStream& operator=(const ZstdStream&) = delete;

 protected:
  Status decode(std::uint8_t* dst, std::size_t n, std::size_t& produced) override {
    if (ds_ == nullptr) return make_error(ErrorCode::io, name_ + ": cannot initialise zstd");
    while (produced < n) {
      if (in_.size() == 0 && !in_.at_eof()) {
        Status st = in_.fill(1);
        if (!st) return st;
      }
      const bool no_input = in_.size() == 0;
      if (no_input && last_ret_ == 0) return {};  // clean end after a complete frame
      const std::size_t before = produced;
      Status st = decompress_some(dst, n, produced);
      if (!st) return st;
      if (no_input && produced == before) {
        return make_error(ErrorCode::truncated, cut_message(name_, "zstd", in_.consumed()));
      }
    }
    return {};
  }

 private:
  Status decompress_some(std::uint8_t* dst, std::size_t n, std::size_t& produced) {
    ZSTD_inBuffer in{in_.data(), in_.size(), 0};
    ZSTD_outBuffer out{dst, n, produced};
    const std::size_t rc = ZSTD_decompressStream(ds_, &out, &in);
    in_.consume(in.pos);
    produced = out.pos;
    if (ZSTD_isError(rc)) {
      return make_error(ErrorCode::corrupt, name_ + ": zstd data is corrupt near compressed byte " +
                                                std::to_string(in_.consumed()) + " (" +
                                                ZSTD_getErrorName(rc) + ")");
    }
    last_ret_ = rc;
    return {};
  }

  CompressedInput in_;
  std::string name_;
  ZSTD_DStream* ds_;
  std::size_t last_ret_ = 1;  // a frame is expected: the magic was seen
};

}  // namespace

std::unique_ptr<ByteStream> make_fd_stream(int fd, bool owned, std::string name) {
  return std::make_unique<FdStream>(fd, owned, std::move(name));
}

std::unique_ptr<ByteStream> make_memory_stream(std::vector<std::uint8_t> bytes) {
  return std::make_unique<MemoryStream>(std::move(bytes));
}

std::unique_ptr<ByteStream> make_gzip_stream(std::unique_ptr<ByteStream> inner, ByteView prefix,
                                             std::string name) {
  return std::make_unique<GzipStream>(std::move(inner), prefix, std::move(name));
}

std::unique_ptr<ByteStream> make_zstd_stream(std::unique_ptr<ByteStream> inner, ByteView prefix,
                                             std::string name) {
  return std::make_unique<ZstdStream>(std::move(inner), prefix, std::move(name));
}

const char* sniff_compression(ByteView head) {
  if (head.size() >= 2 && head[0] == 0x1f && head[1] == 0x8b) return "gzip";
  if (head.size() >= 4 && load_u32le(head.data()) == 0xFD2FB528u) return "zstd";
  return "";
}

InputBuffer InputBuffer::from_memory(std::vector<std::uint8_t> bytes) {
  InputBuffer b;
  b.memory_ = std::move(bytes);
  b.begin_ = b.memory_.data();
  b.pos_ = b.begin_;
  b.end_ = b.begin_ + b.memory_.size();
  b.eof_ = true;
  return b;
}

InputBuffer::InputBuffer() = default;
InputBuffer::InputBuffer(InputBuffer&&) noexcept = default;
InputBuffer& InputBuffer::operator=(InputBuffer&&) noexcept = default;
InputBuffer::~InputBuffer() = default;

InputBuffer InputBuffer::from_stream(std::unique_ptr<ByteStream> stream, ByteView prefix,
                                     bool read_ahead) {
  InputBuffer b;
  b.read_ahead_ = read_ahead;
  b.capacity_ = std::max(initial_capacity, prefix.size());
  b.store_.reset(new std::uint8_t[b.capacity_]);
  std::copy(prefix.begin(), prefix.end(), b.store_.get());
  b.begin_ = b.store_.get();
  b.pos_ = b.begin_;
  b.end_ = b.begin_ + prefix.size();
  b.stream_ = std::move(stream);
  b.eof_ = false;
  return b;
}

// Moves the unread tail to the front; when the window is full of one unfinished record, grows
// it, at most doubling, so growth tracks bytes that really arrived.
void InputBuffer::make_room(std::size_t n) {
  const std::size_t avail = available();
  std::uint8_t* store = store_.get();
  if (pos_ != begin_) {
    std::memmove(store, pos_, avail);
    base_offset_ += static_cast<std::uint64_t>(pos_ - begin_);
    pos_ = store;
    end_ = store + avail;
  }
  if (avail < capacity_) return;
  const std::size_t new_capacity = std::min(n, capacity_ * 2);
  std::unique_ptr<std::uint8_t[]> bigger(new std::uint8_t[new_capacity]);
  std::memcpy(bigger.get(), store, avail);
  store_ = std::move(bigger);
  capacity_ = new_capacity;
  begin_ = store_.get();
  pos_ = begin_;
  end_ = begin_ + avail;
}

bool InputBuffer::fill(std::size_t n) {
  if (eof_) {
    end_ahead();
    return false;
  }
  if (ahead_ != nullptr) return fill_ahead(n);
  if (read_ahead_ && refills_++ > 0) {
    // The second refill: the input is being parsed. What is left of the first buffer is
    // carried into the first chunk like any chunk's tail.
    ahead_ = std::make_unique<ReadAhead>(std::move(stream_));
    return fill_ahead(n);
  }
  // The record does not fit behind pos_: compact first so the refill is one large read.
  if (static_cast<std::size_t>(pos_ - begin_) + n > capacity_) make_room(n);
  while (available() < n) {
    if (end_ == begin_ + capacity_) make_room(n);
    std::uint8_t* dst = store_.get() + (end_ - begin_);
    auto got = stream_->read(dst, capacity_ - static_cast<std::size_t>(end_ - begin_));
    if (!got) {
      error_ = got.error();
      has_error_ = true;
      eof_ = true;
      return false;
    }
    if (got.value() == 0) {
      eof_ = true;
      return false;
    }
    end_ += got.value();
  }
  return true;
}

// Takes chunks until `n` bytes are in the window, or the input ends (the data of a last chunk,
// even a failed one, is still taken: what was read before a fault is analysed).
bool InputBuffer::fill_ahead(std::size_t n) {
  while (available() < n && !eof_) {
    ReadAhead::Chunk& c = ahead_->next();
    // Read before take_chunk(), which may give the chunk back.
    if (c.failed) {
      error_ = c.error;
      has_error_ = true;
    }
    eof_ = c.last;
    take_chunk(c.data, c.size);
  }
  return available() >= n;
}

// Makes the unread tail and a new chunk one window: in place, the tail copied into the gap in
// front of the chunk, when it fits there; else both copied into spill_ (a record longer than
// the gap: rare, and at most one record's worth).
void InputBuffer::take_chunk(std::uint8_t* data, std::size_t size) {
  const std::size_t tail = available();
  base_offset_ = offset();
  const bool was_chunk = window_is_chunk_;
  if (tail <= ReadAhead::kGapBytes) {
    std::uint8_t* start = data - tail;
    if (tail != 0) std::memcpy(start, pos_, tail);
    if (was_chunk) ahead_->release();
    begin_ = start;
    end_ = data + size;
    window_is_chunk_ = true;
  } else {
    if (begin_ == spill_.data() && !spill_.empty()) {
      // Already copying one long record: drop what was read, append (amortised growth).
      spill_.erase(spill_.begin(), spill_.begin() + (pos_ - begin_));
    } else {
      spill_.assign(pos_, end_);
      if (was_chunk) ahead_->release();
    }
    spill_.insert(spill_.end(), data, data + size);
    ahead_->release();  // this chunk: copied
    begin_ = spill_.data();
    end_ = begin_ + spill_.size();
    window_is_chunk_ = false;
  }
  pos_ = begin_;
  store_.reset();  // the first buffer, once its tail has moved on
}

// At the end of the input, the reading thread and its ring go (a merge of rotated files would
// otherwise keep one per finished file); the offset stays right.
void InputBuffer::end_ahead() {
  if (ahead_ == nullptr || available() != 0) return;
  base_offset_ = offset();
  ahead_.reset();
  spill_ = {};
  begin_ = pos_ = end_ = nullptr;
  window_is_chunk_ = false;
}

}  // namespace lastack::capture
