#include "lastack/flow/eviction_stats.h"

#include <algorithm>

namespace lastack::flow {

void TargetCounts::add(const IpAddress& ip, std::uint16_t port) {
  const auto key = std::make_pair(ip, port);
  const auto it = counts_.find(key);
  if (it != counts_.end()) {
    ++it->second;
  } else if (counts_.size() < kMaxTargets) {
    counts_.emplace(key, 1);
  } else {
    ++others_;
  }
}

std::vector<EvictedTarget> TargetCounts::sorted() const {
  std::vector<EvictedTarget> out;
  out.reserve(counts_.size());
  for (const auto& [target, n] : counts_) out.push_back({target.first, target.second, n});
  // counts_ is in address order, so a stable sort by count keeps address order for ties.
  std::stable_sort(out.begin(), out.end(), [](const EvictedTarget& a, const EvictedTarget& b) {
    return a.half_open > b.half_open;
  });
  return out;
}

}  // namespace lastack::flow
