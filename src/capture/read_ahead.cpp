#include "capture/read_ahead.h"

#include "lastack/core/huge_pages.h"

namespace lastack::capture {

namespace {

constexpr std::size_t kSlotBytes = ReadAhead::kGapBytes + ReadAhead::kChunkBytes;
constexpr std::size_t kRingBytes = ReadAhead::kSlots * kSlotBytes;

}  // namespace

ReadAhead::ReadAhead(std::unique_ptr<ByteStream> stream)
    : stream_(std::move(stream)), ring_(static_cast<std::uint8_t*>(huge_alloc(kRingBytes))) {
  worker_ = std::thread([this] { work(); });
}

ReadAhead::~ReadAhead() {
  {
    const std::lock_guard lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  worker_.join();
  huge_free(ring_, kRingBytes);
}

std::uint8_t* ReadAhead::slot_data(std::size_t slot) const {
  return ring_ + slot * kSlotBytes + kGapBytes;
}

// Fills one chunk: whole, unless the stream ends or fails first.
void ReadAhead::fill(Chunk& c) {
  c.size = 0;
  while (c.size < kChunkBytes) {
    auto got = stream_->read(c.data + c.size, kChunkBytes - c.size);
    if (!got) {
      c.last = true;
      c.failed = true;
      c.error = got.error();
      return;
    }
    if (got.value() == 0) {
      c.last = true;
      return;
    }
    c.size += got.value();
  }
}

void ReadAhead::work() {
  for (std::uint64_t k = 0;; ++k) {
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [&] { return stop_ || k < released_ + kSlots; });
      if (stop_) return;
    }
    // The slot is this thread's until published: the consumer gave it back.
    Chunk& c = chunks_[k % kSlots];
    c = Chunk{};
    c.data = slot_data(k % kSlots);
    fill(c);
    {
      const std::lock_guard lock(mutex_);
      ++produced_;
    }
    changed_.notify_all();
    if (c.last) return;
  }
}

ReadAhead::Chunk& ReadAhead::next() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return taken_ < produced_; });
  return chunks_[taken_++ % kSlots];
}

void ReadAhead::release() {
  {
    const std::lock_guard lock(mutex_);
    ++released_;
  }
  changed_.notify_all();
}

}  // namespace lastack::capture
