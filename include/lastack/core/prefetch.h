// A hint to start loading the cache line at `p` (read, keep in all levels), for code that knows
// its next addresses before it needs them. GCC 12's -flto Release build had dropped the flow
// table's expiry prefetches written as __builtin_prefetch (objdump: none left in the binary; the
// same file compiled without LTO has them; the link-time dumps summarise the calls as having no
// effect). A volatile asm statement is never dropped, so on x86-64 the instruction is written out.
#pragma once
#include <cstddef>

namespace lastack {

inline void prefetch(const void* p) {
#if defined(__x86_64__)
  asm volatile("prefetcht0 %0" : : "m"(*static_cast<const char*>(p)));
#else
  __builtin_prefetch(p);
#endif
}

// Every cache line of [p, p + bytes): for an object another core wrote that is about to be
// read through.
inline void prefetch_span(const void* p, std::size_t bytes) {
  constexpr std::size_t kLine = 64;
  const char* const first = static_cast<const char*>(p);
  for (std::size_t at = 0; at < bytes; at += kLine) prefetch(first + at);
  if (bytes != 0) prefetch(first + bytes - 1);  // the last line, when p is not line-aligned
}

}  // namespace lastack
