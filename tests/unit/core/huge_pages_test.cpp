// Huge-page memory for the growing tables (core/huge_pages.h): huge_alloc's alignment and
// zeroing, a HugeVector growing across the threshold with its contents intact, and the object
// arena's reuse of freed objects, also when they are freed on another thread.
#include <catch2/catch.hpp>

#include <cstdint>
#include <set>
#include <thread>
#include <vector>

#include "lastack/core/huge_pages.h"

using lastack::HugeVector;
using lastack::kHugePage;
using lastack::ObjectArena;

TEST_CASE("huge_alloc returns zeroed memory aligned to a huge page", "[core][huge_pages]") {
  const std::size_t bytes = kHugePage + 12345;
  auto* p = static_cast<std::uint8_t*>(lastack::huge_alloc(bytes));
  REQUIRE(p != nullptr);
  CHECK(reinterpret_cast<std::uintptr_t>(p) % kHugePage == 0);
  std::size_t nonzero = 0;
  for (std::size_t i = 0; i < bytes; ++i) nonzero += p[i] != 0 ? 1 : 0;
  CHECK(nonzero == 0);
  p[0] = 1;
  p[bytes - 1] = 2;  // the whole request is writable
  CHECK(p[bytes - 1] == 2);
  lastack::huge_free(p, bytes);
}

TEST_CASE("use_huge: small blocks stay with operator new", "[core][huge_pages]") {
  CHECK_FALSE(lastack::use_huge(4096));
  CHECK_FALSE(lastack::use_huge(lastack::kHugeThreshold - 1));
  CHECK(lastack::use_huge(lastack::kHugeThreshold) == lastack::kHugePagesUsed);
}

TEST_CASE("a HugeVector keeps its contents while it grows past the threshold",
          "[core][huge_pages]") {
  struct Item {
    std::uint64_t a;
    std::uint32_t b;
  };
  HugeVector<Item> v;
  const std::size_t n = 3 * lastack::kHugeThreshold / sizeof(Item);  // several regrowths
  for (std::size_t i = 0; i < n; ++i) v.push_back({i * 7, static_cast<std::uint32_t>(i)});
  REQUIRE(v.size() == n);
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < n; ++i) {
    wrong += (v[i].a != i * 7 || v[i].b != static_cast<std::uint32_t>(i)) ? 1 : 0;
  }
  CHECK(wrong == 0);
  if (lastack::kHugePagesUsed) {
    CHECK(reinterpret_cast<std::uintptr_t>(v.data()) % kHugePage == 0);
  }
  v = HugeVector<Item>{};  // gives the region back
  CHECK(v.capacity() == 0);
}

TEST_CASE("ObjectArena hands out distinct objects and reuses freed ones", "[core][huge_pages]") {
  // Never destroyed, as its users do; a static, so leak checkers see it reachable.
  static ObjectArena* const arena = new ObjectArena(1456);
  std::set<void*> seen;
  std::vector<void*> objects;
  // More than one block's worth.
  const std::size_t n = 2 * kHugePage / 1456 + 10;
  for (std::size_t i = 0; i < n; ++i) {
    void* p = arena->allocate();
    CHECK(reinterpret_cast<std::uintptr_t>(p) % alignof(std::max_align_t) == 0);
    CHECK(seen.insert(p).second);
    objects.push_back(p);
  }
  // Objects do not overlap: each is written whole and read back.
  for (std::size_t i = 0; i < n; ++i) std::fill_n(static_cast<std::uint8_t*>(objects[i]), 1456, i);
  std::size_t clobbered = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const auto* b = static_cast<const std::uint8_t*>(objects[i]);
    for (std::size_t k = 0; k < 1456; ++k) clobbered += b[k] != static_cast<std::uint8_t>(i);
  }
  CHECK(clobbered == 0);

  // Freed on another thread, then reused here: no new memory for them.
  std::thread([&] {
    for (void* p : objects) arena->deallocate(p);
  }).join();
  std::size_t reused = 0;
  for (std::size_t i = 0; i < n; ++i) reused += seen.count(arena->allocate());
  CHECK(reused == n);
}

TEST_CASE("SmallBlockAllocator: a vector growing through the pooled sizes and beyond",
          "[core][huge_pages]") {
  using Small = std::vector<std::uint64_t, lastack::SmallBlockAllocator<std::uint64_t, 8>>;
  Small v;
  v.reserve(8);  // from the 8-element arena
  const std::uint64_t* first = v.data();
  for (std::uint64_t i = 0; i < 100; ++i) v.push_back(i * i);  // 8 -> 16 (arena) -> 32 ... (new)
  std::size_t wrong = 0;
  for (std::uint64_t i = 0; i < 100; ++i) wrong += v[i] != i * i ? 1 : 0;
  CHECK(wrong == 0);
  // The 8-element block went back to its arena when the vector grew: the next one reuses it.
  if (lastack::kHugePagesUsed) {
    Small w;
    w.reserve(8);
    CHECK(w.data() == first);
  }
}
