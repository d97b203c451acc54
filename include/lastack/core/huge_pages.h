// Memory for the tables that grow with the capture (the flow slab and its index, the pooled
// connections, the TIME_WAIT analysis's records), on transparent huge pages where the kernel
// offers them.
//
// Why: every 4 KiB page a process touches for the first time is a page fault, and a run's
// footprint is touched page by page as its tables grow to their peak. At 1M packets that was
// ~21,000 faults, and in a VM (this project's benchmark machine: page-table isolation, a
// paravirtualised MMU) each costs ~13 µs (64 MiB touched a page at a time: 215 ms): ~15 % of
// the run's CPU time. A 2 MiB huge page is one fault for 512 pages. Linux backs an anonymous
// mapping with huge pages when THP is `always`, or `madvise` and the mapping asked (MADV_HUGEPAGE);
// glibc's malloc asks only when the process starts with GLIBC_TUNABLES=glibc.malloc.hugetlb=1, so
// these tables map their own memory, aligned to 2 MiB so that the whole of it can be backed.
//
// Small blocks gain nothing and would each pin a whole huge page, so below kHugeThreshold the
// allocator is operator new. Under AddressSanitizer everything goes to operator new too, so
// that the sanitizer keeps watching these tables.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <new>
#include <vector>

namespace lastack {

inline constexpr std::size_t kHugePage = std::size_t{2} << 20;
inline constexpr std::size_t kHugeThreshold = std::size_t{1} << 20;

// `bytes` (>= 1) of zeroed memory aligned to kHugePage, advised for huge pages; throws
// std::bad_alloc. Give back with huge_free(p, the same bytes).
void* huge_alloc(std::size_t bytes);
void huge_free(void* p, std::size_t bytes) noexcept;

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kHugePagesUsed = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kHugePagesUsed = false;
#else
inline constexpr bool kHugePagesUsed = true;
#endif
#else
inline constexpr bool kHugePagesUsed = true;
#endif

// Whether huge_alloc serves requests of this size (else operator new does).
constexpr bool use_huge(std::size_t bytes) {
  return kHugePagesUsed && bytes >= kHugeThreshold;
}

// A std allocator for the growing tables: a vector's large buffers come from huge_alloc.
template <class T>
struct HugePageAllocator {
  using value_type = T;

  HugePageAllocator() = default;
  template <class U>
  HugePageAllocator(const HugePageAllocator<U>& /*other*/) noexcept {}  // NOLINT: rebinding

  T* allocate(std::size_t n) {
    const std::size_t bytes = n * sizeof(T);
    if (use_huge(bytes)) return static_cast<T*>(huge_alloc(bytes));
    return std::allocator<T>{}.allocate(n);
  }
  void deallocate(T* p, std::size_t n) noexcept {
    const std::size_t bytes = n * sizeof(T);
    if (use_huge(bytes)) return huge_free(p, bytes);
    std::allocator<T>{}.deallocate(p, n);
  }

  template <class U>
  bool operator==(const HugePageAllocator<U>& /*other*/) const noexcept {
    return true;
  }
};

template <class T>
using HugeVector = std::vector<T, HugePageAllocator<T>>;

// Fixed-size objects carved from huge-page blocks, for a class whose objects are pooled and
// numerous (a tracked connection: thousands live at once, each ~1.5 KiB). Freed objects are
// kept for reuse, and blocks are never given back: an arena lives as long as the process
// (arena_of_size holds each in a static that is never destroyed, so objects freed during exit
// still find it). Thread-safe: objects are made on one thread and may be destroyed on
// another.
class ObjectArena {
 public:
  explicit ObjectArena(std::size_t object_bytes);
  ObjectArena(const ObjectArena&) = delete;
  ObjectArena& operator=(const ObjectArena&) = delete;
  ~ObjectArena() = delete;  // see above

  void* allocate();
  void deallocate(void* p) noexcept;

 private:
  std::size_t object_bytes_;
  std::mutex mutex_;
  void* free_list_ = nullptr;   // freed objects, each holding the next one's address
  char* block_next_ = nullptr;  // the unused rest of the newest block
  char* block_end_ = nullptr;
};

// The arena for blocks of `Bytes` (one per size, for the life of the process).
template <std::size_t Bytes>
ObjectArena& arena_of_size() {
  static ObjectArena* const arena = new ObjectArena(Bytes);  // never destroyed (see above)
  return *arena;
}

// A std allocator for a pooled container whose buffers are mostly kSmall or 2 * kSmall elements
// (a connection's facts: reserved kSmall at the first one, grown once at most for most
// connections, and kept with the recycled connection): those two sizes come from arenas, on
// huge pages, and any other from operator new.
template <class T, std::size_t kSmall>
struct SmallBlockAllocator {
  using value_type = T;

  SmallBlockAllocator() = default;
  template <class U>
  SmallBlockAllocator(const SmallBlockAllocator<U, kSmall>& /*other*/) noexcept {}  // NOLINT

  template <class U>
  struct rebind {
    using other = SmallBlockAllocator<U, kSmall>;
  };

  T* allocate(std::size_t n) {
    if (kHugePagesUsed && n == kSmall) return static_cast<T*>(small().allocate());
    if (kHugePagesUsed && n == 2 * kSmall) return static_cast<T*>(twice().allocate());
    return std::allocator<T>{}.allocate(n);
  }
  void deallocate(T* p, std::size_t n) noexcept {
    if (kHugePagesUsed && n == kSmall) return small().deallocate(p);
    if (kHugePagesUsed && n == 2 * kSmall) return twice().deallocate(p);
    std::allocator<T>{}.deallocate(p, n);
  }

  template <class U>
  bool operator==(const SmallBlockAllocator<U, kSmall>& /*other*/) const noexcept {
    return true;
  }

 private:
  static ObjectArena& small() { return arena_of_size<kSmall * sizeof(T)>(); }
  static ObjectArena& twice() { return arena_of_size<2 * kSmall * sizeof(T)>(); }
};

}  // namespace lastack
