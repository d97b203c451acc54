#include "lastack/core/huge_pages.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <mutex>

namespace lastack {

namespace {

std::size_t round_up(std::size_t n, std::size_t to) {
  return (n + to - 1) / to * to;
}

}  // namespace

// Maps a kHugePage more than asked and unmaps the ends around the aligned part: THP backs only
// whole, aligned 2 MiB ranges of a mapping.
void* huge_alloc(std::size_t bytes) {
  const std::size_t len = round_up(bytes, kHugePage);
  void* mapped =
      mmap(nullptr, len + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapped == MAP_FAILED) throw std::bad_alloc();
  char* const raw = static_cast<char*>(mapped);
  const std::size_t misaligned = reinterpret_cast<std::uintptr_t>(raw) % kHugePage;
  const std::size_t head = misaligned == 0 ? 0 : kHugePage - misaligned;
  char* const aligned = raw + head;
  if (head != 0) munmap(raw, head);
  const std::size_t tail = kHugePage - head;
  if (tail != 0) munmap(aligned + len, tail);
  // A hint: without THP (or with it off) the memory is ordinary pages.
  (void)madvise(aligned, len, MADV_HUGEPAGE);
  return aligned;
}

void huge_free(void* p, std::size_t bytes) noexcept {
  if (p != nullptr) munmap(p, round_up(bytes, kHugePage));
}

ObjectArena::ObjectArena(std::size_t object_bytes)
    : object_bytes_(round_up(std::max(object_bytes, sizeof(void*)), alignof(std::max_align_t))) {}

void* ObjectArena::allocate() {
  const std::lock_guard lock(mutex_);
  if (free_list_ != nullptr) {
    void* p = free_list_;
    free_list_ = *static_cast<void**>(p);
    return p;
  }
  if (static_cast<std::size_t>(block_end_ - block_next_) < object_bytes_) {
    const std::size_t block = round_up(object_bytes_, kHugePage);
    block_next_ = static_cast<char*>(huge_alloc(block));
    block_end_ = block_next_ + block;
  }
  void* p = block_next_;
  block_next_ += object_bytes_;
  return p;
}

void ObjectArena::deallocate(void* p) noexcept {
  if (p == nullptr) return;
  const std::lock_guard lock(mutex_);
  *static_cast<void**>(p) = free_list_;
  free_list_ = p;
}

}  // namespace lastack
