// Capture time in nanoseconds since the Unix epoch, and durations. All timers in lastack run on
// capture time, never on the wall clock, so the same capture always gives the same report.
#pragma once

#include <array>
#include <climits>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace lastack {

inline constexpr std::int64_t kNsPerSec = 1'000'000'000;

struct Duration {
  std::int64_t ns = 0;
  static constexpr Duration from_ms(std::int64_t ms) { return Duration{ms * 1'000'000}; }
  static constexpr Duration from_s(std::int64_t s) { return Duration{s * kNsPerSec}; }
  [[nodiscard]] constexpr double seconds() const { return static_cast<double>(ns) / 1e9; }
  constexpr auto operator<=>(const Duration&) const = default;
  constexpr Duration operator*(std::int64_t k) const { return Duration{ns * k}; }
  constexpr Duration operator+(Duration o) const { return Duration{ns + o.ns}; }
};

struct Timestamp {
  std::int64_t ns = 0;
  constexpr auto operator<=>(const Timestamp&) const = default;
  // Saturating: hostile captures carry timestamps near the int64 limits, and timers add to them.
  constexpr Timestamp operator+(Duration d) const {
    std::int64_t r = 0;
    if (__builtin_add_overflow(ns, d.ns, &r)) r = d.ns > 0 ? INT64_MAX : INT64_MIN;
    return Timestamp{r};
  }
  constexpr Duration operator-(Timestamp o) const {
    std::int64_t r = 0;
    if (__builtin_sub_overflow(ns, o.ns, &r)) r = o.ns < 0 ? INT64_MAX : INT64_MIN;
    return Duration{r};
  }
};

// RFC 3339 UTC with nanoseconds: "2026-11-21T09:00:01.123456789Z".
std::string format_rfc3339(Timestamp ts);
// The same into a caller's buffer (no allocation; for bulk writers); returns the length.
using Rfc3339Buffer = std::array<char, 64>;
std::size_t format_rfc3339(Timestamp ts, Rfc3339Buffer& out);

// format_rfc3339 for a column of timestamps in time order (a bulk writer's rows): when a
// timestamp falls in the second formatted last, only its nine fraction digits are rewritten
// (1M packets: the connections rows' first_ts falls in the previous row's second 90 % of the
// time, last_ts 99 %). The text lives until the next call.
class Rfc3339Column {
 public:
  std::string_view format(Timestamp ts);

 private:
  Rfc3339Buffer buf_{};
  std::int64_t second_ = INT64_MIN;  // of the text in buf_ (INT64_MIN: none reusable)
  std::size_t len_ = 0;
};

// Parses "30s", "500ms", "2m", "1.5s", "100us", "10ns" or a bare number of seconds.
bool parse_duration(std::string_view text, Duration& out);

}  // namespace lastack
