#include "lastack/findings/finding_order.h"

#include <algorithm>
#include <compare>
#include <tuple>

namespace lastack::findings {

bool canonical_less(const Finding& a, const Finding& b) {
  return std::tie(a.ts, a.connection_id, a.kind, a.cause, a.frames, a.message) <
         std::tie(b.ts, b.connection_id, b.kind, b.cause, b.frames, b.message);
}

void LinkIndex::sort() {
  std::sort(targets_.begin(), targets_.end());
}

void LinkIndex::related(std::uint64_t id, const std::vector<FindingLink>& links,
                        std::vector<std::uint64_t>& out) const {
  out.clear();
  const auto by_key = [](const Target& a, const Target& b) {
    return std::tie(a.connection_id, a.kind) < std::tie(b.connection_id, b.kind);
  };
  for (const FindingLink& link : links) {
    const auto [lo, hi] = std::equal_range(targets_.begin(), targets_.end(),
                                           Target{link.connection_id, link.kind, 0}, by_key);
    for (auto it = lo; it != hi; ++it) {
      if (it->id != id) out.push_back(it->id);
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
}

}  // namespace lastack::findings
