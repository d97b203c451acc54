// The streaming step series of time_wait_pressure (see the header for what V(b) is).
#include "time_wait_series.h"

#include <algorithm>
#include <climits>

namespace lastack::detect::tw {

namespace {

using Points = std::vector<std::pair<std::int64_t, std::uint64_t>>;

// A count as the series shows it. The running total dips below zero for a moment when a
// zero-length entry ends and starts at one instant (ends sort first: intervals are half-open);
// no count was ever negative, so the dip is not part of any bucket's maximum.
std::uint64_t shown(std::int64_t total) {
  return static_cast<std::uint64_t>(std::max<std::int64_t>(0, total));
}

// Appends (b, v) unless v is the value already in force: the series only records changes.
void push_change(Points& out, std::int64_t b, std::uint64_t v) {
  if (!out.empty() && out.back().second == v) return;
  out.emplace_back(b, v);
}

// Re-buckets the runs `pts` (fine buckets [0, n)) onto coarse buckets to(b); `to` is monotone
// and moves by 0 or 1 from one fine bucket to the next. A coarse bucket takes the maximum of its
// fine buckets, which is exactly its V: the count entering it is the one entering its first
// fine bucket, and every event in it is in one of them.
template <class To>
Points regroup(const Points& pts, std::int64_t n, To to) {
  Points out;
  if (n <= 0) return out;
  if (to(0) > 0) push_change(out, 0, 0);  // coarse buckets before the fine grid saw nothing
  std::int64_t cur = -1;
  std::uint64_t acc = 0;
  for (std::size_t i = 0; i < pts.size() && pts[i].first < n; ++i) {
    const std::int64_t last = (i + 1 < pts.size() ? std::min(pts[i + 1].first, n) : n) - 1;
    const std::uint64_t v = pts[i].second;
    const std::int64_t c0 = to(pts[i].first);
    const std::int64_t c1 = to(last);
    if (c0 != cur) {
      if (cur >= 0) push_change(out, cur, acc);
      cur = c0;
      acc = v;
    } else {
      acc = std::max(acc, v);
    }
    if (c1 > c0) {  // the run covers c0's end, whole coarse buckets, and c1's beginning
      push_change(out, c0, acc);
      if (c1 > c0 + 1) push_change(out, c0 + 1, v);
      cur = c1;
      acc = v;
    }
  }
  if (cur >= 0) push_change(out, cur, acc);
  return out;
}

}  // namespace

std::int64_t SeriesBuilder::bucket(Timestamp t, Timestamp origin) const {
  return std::max<std::int64_t>(0, (t - origin).ns) / (step_s_ * kNsPerSec);
}

// Grows by doubling up to what before() can hold before coarsening (two points past
// kMaxPoints), not to the next power of two: with ~1000 holders and pairs that is megabytes.
// The value in force is compared from last_ (in the builder, in cache), not from points_.back():
// with ~1000 series swept in turn, loading each one's last point was a cache miss per bucket.
void SeriesBuilder::emit(std::int64_t b, std::uint64_t v) {
  if (!points_.empty() && last_ == v) return;  // as push_change()
  constexpr std::size_t kMostPoints = kMaxPoints + 2;
  if (points_.size() == points_.capacity() && points_.capacity() < kMostPoints) {
    points_.reserve(std::min(std::max<std::size_t>(8, 2 * points_.capacity()), kMostPoints));
  }
  points_.emplace_back(b, v);
  last_ = v;
}

// Same steps as a batch sweep: moving to a later bucket closes the open one, and the buckets
// skipped on the way hold the count as it was.
void SeriesBuilder::before(Timestamp t, Timestamp origin, std::int64_t total) {
  const std::int64_t b = bucket(t, origin);
  if (b <= cur_b_) return;
  emit(cur_b_, cur_max_);
  if (b > cur_b_ + 1) emit(cur_b_ + 1, shown(total));
  cur_b_ = b;
  cur_max_ = shown(total);
  while (points_.size() > kMaxPoints) coarsen();
}

void SeriesBuilder::after(std::int64_t total) {
  cur_max_ = std::max(cur_max_, shown(total));
}

void SeriesBuilder::close(Timestamp end, Timestamp origin, std::int64_t total) {
  if (!open_) return;
  const std::int64_t last_bucket = bucket(end, origin);
  emit(cur_b_, cur_max_);
  if (cur_b_ < last_bucket) emit(cur_b_ + 1, shown(total));
  cur_b_ = std::max(cur_b_, last_bucket) + 1;  // from here on: the number of closed buckets
  open_ = false;
}

// Doubles the step. The open bucket becomes the coarse bucket holding it; the closed fine bucket
// already in that coarse bucket (when the open one is its second half) joins its maximum.
void SeriesBuilder::coarsen() {
  const std::int64_t open_coarse = cur_b_ / 2;
  Points coarse = regroup(points_, cur_b_, [](std::int64_t b) { return b / 2; });
  if (cur_b_ % 2 == 1 && !coarse.empty()) {
    cur_max_ = std::max(cur_max_, coarse.back().second);
    if (coarse.back().first == open_coarse) coarse.pop_back();
  }
  points_ = std::move(coarse);
  if (!points_.empty()) last_ = points_.back().second;
  cur_b_ = open_coarse;
  step_s_ *= 2;
}

findings::StepSeries SeriesBuilder::result(std::int64_t final_step_s,
                                           std::int64_t origin_lead_ns) const {
  const std::int64_t fine_ns = step_s_ * kNsPerSec;
  const std::int64_t coarse_ns = final_step_s * kNsPerSec;
  auto to = [&](std::int64_t b) {  // the coarse bucket of fine bucket b's beginning (saturating)
    std::int64_t at = 0;
    if (__builtin_mul_overflow(fine_ns, b, &at) ||
        __builtin_add_overflow(at, origin_lead_ns, &at)) {
      at = INT64_MAX;
    }
    return at <= 0 ? 0 : at / coarse_ns;
  };
  findings::StepSeries out;
  for (const auto& [b, v] : regroup(points_, cur_b_, to)) out.emplace_back(b * final_step_s, v);
  return out;
}

}  // namespace lastack::detect::tw
