#include <catch2/catch.hpp>

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
  CHECK_FALSE(lastack::parse_duration("", d));
  CHECK_FALSE(lastack::parse_duration("abc", d));
  CHECK_FALSE(lastack::parse_duration("10parsecs", d));
  CHECK_FALSE(lastack::parse_duration("-3s", d));
  CHECK_FALSE(lastack::parse_duration("1..2s", d));
}
