#include "lastack/core/timestamp.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>

namespace lastack {

namespace {

// Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm): no gmtime, no locale,
// works for any int64 day count we can meet in a capture.
void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += (m <= 2);
}

// Whole seconds (floored: before 1970 too) and the nanoseconds after them.
struct Split {
  std::int64_t secs;
  std::int64_t frac;
};
Split split(Timestamp ts) {
  Split s{ts.ns / kNsPerSec, ts.ns % kNsPerSec};
  if (s.frac < 0) {
    s.frac += kNsPerSec;
    s.secs -= 1;
  }
  return s;
}

// `v` as `digits` decimal digits at out[at...], zero-padded. Written digit by digit: this runs
// for every row of a large report, and snprintf's format parsing dominated it.
void put_digits(Rfc3339Buffer& out, std::size_t at, std::int64_t v, int digits) {
  for (int k = digits - 1; k >= 0; --k) {
    out[at + static_cast<std::size_t>(k)] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
}

// "YYYY-MM-DDTHH:MM:SS." then the nine fraction digits and 'Z' (four-digit years).
constexpr std::size_t kFractionAt = 20;
constexpr std::size_t kFourDigitYearLength = kFractionAt + 10;

}  // namespace

std::size_t format_rfc3339(Timestamp ts, Rfc3339Buffer& out) {
  const auto [secs, frac] = split(ts);
  std::int64_t days = secs / 86400;
  std::int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    days -= 1;
  }
  std::int64_t y = 0;
  unsigned m = 0;
  unsigned d = 0;
  civil_from_days(days, y, m, d);
  if (y < 0 || y > 9999) {
    const int n =
        std::snprintf(out.data(), out.size(), "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%09lldZ",
                      static_cast<long long>(y), m, d, static_cast<long long>(rem / 3600),
                      static_cast<long long>((rem / 60) % 60), static_cast<long long>(rem % 60),
                      static_cast<long long>(frac));
    return n > 0 ? std::min(static_cast<std::size_t>(n), out.size() - 1) : 0;
  }
  put_digits(out, 0, y, 4);
  out[4] = '-';
  put_digits(out, 5, m, 2);
  out[7] = '-';
  put_digits(out, 8, d, 2);
  out[10] = 'T';
  put_digits(out, 11, rem / 3600, 2);
  out[13] = ':';
  put_digits(out, 14, (rem / 60) % 60, 2);
  out[16] = ':';
  put_digits(out, 17, rem % 60, 2);
  out[19] = '.';
  put_digits(out, kFractionAt, frac, 9);
  out[29] = 'Z';
  return kFourDigitYearLength;
}

std::string_view Rfc3339Column::format(Timestamp ts) {
  const auto [second, frac] = split(ts);
  if (second != second_) {
    len_ = format_rfc3339(ts, buf_);
    // Only the four-digit-year layout has its fraction at a fixed place.
    second_ = len_ == kFourDigitYearLength ? second : INT64_MIN;
  } else {
    put_digits(buf_, kFractionAt, frac, 9);
  }
  return {buf_.data(), len_};
}

std::string format_rfc3339(Timestamp ts) {
  Rfc3339Buffer buf;
  const std::size_t n = format_rfc3339(ts, buf);
  return std::string(std::string_view(buf.data(), std::min(n, buf.size())));
}

bool parse_duration(std::string_view text, Duration& out) {
  if (text.empty()) return false;
  std::size_t unit_at = 0;
  while (unit_at < text.size() &&
         ((text[unit_at] >= '0' && text[unit_at] <= '9') || text[unit_at] == '.')) {
    ++unit_at;
  }
  const std::string_view number = text.substr(0, unit_at);
  const std::string_view unit = text.substr(unit_at);
  if (number.empty() || number == ".") return false;
  double value = 0;
  const auto res = std::from_chars(number.data(), number.data() + number.size(), value);
  if (res.ec != std::errc{} || res.ptr != number.data() + number.size()) return false;
  double scale = 0;
  if (unit.empty() || unit == "s")
    scale = 1e9;
  else if (unit == "ms")
    scale = 1e6;
  else if (unit == "us")
    scale = 1e3;
  else if (unit == "ns")
    scale = 1;
  else if (unit == "m" || unit == "min")
    scale = 60e9;
  else if (unit == "h")
    scale = 3600e9;
  else
    return false;
  const double ns = value * scale;
  if (!(ns >= 0) || ns > 9.2e18) return false;
  // llround, not (ns + 0.5) truncated: the sum rounds up in double for the largest value below
  // one half (0.49999999999999994 + 0.5 == 1.0).
  out = Duration{std::llround(ns)};
  return true;
}

}  // namespace lastack
