// The step series of one TIME_WAIT count, built as its events stream by (time_wait_pressure).
//
// The series is the run-length encoding of V(b) over the buckets b = 0 .. bucket(capture end):
// V(b) is the maximum of the count during bucket b — the count entering it and the count after
// each event in it. Buckets are `step` seconds from the series origin (the capture start).
//
// The final step (≥ span / 600) is only known at the end. Because V of a bucket k times wider is
// the maximum of the V of the k buckets it covers, the series can be kept at a finer step and
// re-bucketed exactly at the end; while streaming it keeps at most kMaxPoints points by doubling
// its step (merging pairs of buckets) when it has more.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "lastack/core/timestamp.h"
#include "lastack/findings/time_wait.h"

namespace lastack::detect::tw {

// Enough for every point of a capture up to 1200 s at 1 s steps: those are never re-bucketed
// while streaming, so their series match a batch sweep at any final step.
inline constexpr std::size_t kMaxPoints = 1201;

class SeriesBuilder {
 public:
  // Before an event at `t`, with the count before it.
  void before(Timestamp t, Timestamp origin, std::int64_t total);
  // After an event, with the count after it.
  void after(std::int64_t total);
  // The capture ended at `end`: the buckets up to its bucket take `total` from here on.
  void close(Timestamp end, Timestamp origin, std::int64_t total);

  [[nodiscard]] bool open() const { return open_; }
  [[nodiscard]] std::int64_t step_s() const { return step_s_; }
  [[nodiscard]] std::size_t points() const { return points_.size(); }
  // The closed series at `final_step_s` (a multiple of step_s()), for a capture starting
  // `origin_lead_ns` before this series' origin (0 when the origin was the capture start).
  [[nodiscard]] findings::StepSeries result(std::int64_t final_step_s,
                                            std::int64_t origin_lead_ns) const;

 private:
  [[nodiscard]] std::int64_t bucket(Timestamp t, Timestamp origin) const;
  void emit(std::int64_t b, std::uint64_t v);
  void coarsen();

  std::int64_t step_s_ = 1;
  std::int64_t cur_b_ = 0;     // the open bucket; points_ describe the buckets before it
  std::uint64_t cur_max_ = 0;  // V of the open bucket so far
  bool open_ = true;
  std::vector<std::pair<std::int64_t, std::uint64_t>> points_;  // (bucket, value), deduped
  std::uint64_t last_ = 0;  // points_.back().second when points_ is not empty
};

}  // namespace lastack::detect::tw
