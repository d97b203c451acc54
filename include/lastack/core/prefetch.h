// A hint to start loading the cache line at `p` (read, keep in all levels), for code that knows
// its next addresses before it needs them. GCC 12's -flto Release build had dropped the flow
// table's expiry prefetches written as __builtin_prefetch (objdump: none left in the binary; the
// same file compiled without LTO has them; the link-time dumps summarise the calls as having no
// effect). A volatile asm statement is never dropped, so on x86-64 the instruction is written out.
#pragma once

namespace lastack {

inline void prefetch(const void* p) {
#if defined(__x86_64__)
  asm volatile("prefetcht0 %0" : : "m"(*static_cast<const char*>(p)));
#else
  __builtin_prefetch(p);
#endif
}

}  // namespace lastack
