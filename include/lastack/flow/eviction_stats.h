// What the flow table gave up to stay within its memory budget (README "Memory cap"):
// half-open attempts dropped unanalysed and counted per server, live connections finalised
// early, tombstones of finished connections dropped. Reported as the analysis having degraded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "lastack/core/frame_ref.h"
#include "lastack/core/ip_address.h"
#include "lastack/core/timestamp.h"

namespace lastack::flow {

struct EvictedTarget {
  IpAddress ip;
  std::uint16_t port = 0;
  std::uint64_t half_open = 0;  // attempts to this server evicted before their handshake
};

struct EvictionStats {
  std::uint64_t half_open = 0;   // half-open attempts dropped (neither summarised nor analysed)
  std::uint64_t live = 0;        // connections finalised early, as an idle timeout would
  std::uint64_t tombstones = 0;  // finished connections' reuse records dropped before 2MSL
  std::vector<EvictedTarget> by_target;  // most evicted first (ties: address, port)
  std::uint64_t other_targets = 0;       // attempts to servers beyond the first kMaxTargets seen
  std::optional<FrameRef> first_half_open_frame;  // the first evicted attempt's first SYN
  Timestamp first_half_open_ts;

  [[nodiscard]] bool any() const { return half_open + live + tombstones > 0; }
};

// Half-open evictions per server ip:port. Bounded so that a flood aimed at many servers cannot
// grow it: the first kMaxTargets servers get a count each, the rest share one.
class TargetCounts {
 public:
  static constexpr std::size_t kMaxTargets = 1000;

  void add(const IpAddress& ip, std::uint16_t port);
  [[nodiscard]] std::vector<EvictedTarget> sorted() const;
  [[nodiscard]] std::uint64_t others() const { return others_; }

 private:
  std::map<std::pair<IpAddress, std::uint16_t>, std::uint64_t> counts_;
  std::uint64_t others_ = 0;
};

}  // namespace lastack::flow
