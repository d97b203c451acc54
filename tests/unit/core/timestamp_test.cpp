#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <string>

#include "lastack/core/timestamp.h"

using lastack::Duration;
using lastack::Timestamp;

TEST_CASE("format_rfc3339 prints UTC with nanoseconds", "[core][time]") {
  CHECK(lastack::format_rfc3339(Timestamp{0}) == "1970-01-01T00:00:00.000000000Z");
  // 2026-11-21T09:00:01.123456789Z
  CHECK(lastack::format_rfc3339(Timestamp{1'795'251'601'123'456'789}) ==
        "2026-11-21T09:00:01.123456789Z");
  CHECK(lastack::format_rfc3339(Timestamp{951'782'400'000'000'000}) ==
        "2000-02-29T00:00:00.000000000Z");
  CHECK(lastack::format_rfc3339(Timestamp{-1}) == "1969-12-31T23:59:59.999999999Z");
}

TEST_CASE("Rfc3339Column formats what format_rfc3339 does, in and out of the last second",
          "[core][time]") {
  std::mt19937_64 rng(7);
  lastack::Rfc3339Column column;
  std::int64_t ns = 1'795'251'601'123'456'789;
  for (int i = 0; i < 20000; ++i) {
    switch (rng() % 6) {
      case 0: ns += static_cast<std::int64_t>(rng() % 5'000'000'000); break;  // seconds on
      case 1: ns -= static_cast<std::int64_t>(rng() % 3'000'000'000); break;  // back in time
      case 2: ns = -static_cast<std::int64_t>(rng() % 4'000'000'000); break;  // before 1970
      case 3: ns = static_cast<std::int64_t>(rng() >> 1); break;              // any time up to 2262
      default: ns += static_cast<std::int64_t>(rng() % 1'000'000); break;     // the same second
    }
    const Timestamp ts{ns};
    INFO(ns);
    REQUIRE(std::string(column.format(ts)) == lastack::format_rfc3339(ts));
  }
}

TEST_CASE("parse_duration accepts the usual units and rejects junk", "[core][time]") {
  Duration d;
  REQUIRE(lastack::parse_duration("30s", d));
  CHECK(d == Duration::from_s(30));
  REQUIRE(lastack::parse_duration("250ms", d));
  CHECK(d == Duration::from_ms(250));
  REQUIRE(lastack::parse_duration("1.5", d));
  CHECK(d.ns == 1'500'000'000);
  REQUIRE(lastack::parse_duration("2m", d));
  CHECK(d == Duration::from_s(120));
  // Rounded to the nearest nanosecond, halves away from zero; the largest double below one half
  // stays below it.
  REQUIRE(lastack::parse_duration("2.5ns", d));
  CHECK(d.ns == 3);
  REQUIRE(lastack::parse_duration("0.49999999999999994ns", d));
  CHECK(d.ns == 0);
  REQUIRE(lastack::parse_duration("0.0000000014", d));
  CHECK(d.ns == 1);
  CHECK_FALSE(lastack::parse_duration("", d));
  CHECK_FALSE(lastack::parse_duration("abc", d));
  CHECK_FALSE(lastack::parse_duration("10parsecs", d));
  CHECK_FALSE(lastack::parse_duration("-3s", d));
  CHECK_FALSE(lastack::parse_duration("1..2s", d));
}
