#include <catch2/catch.hpp>

#include "lastack/core/ip_address.h"

TEST_CASE("IP addresses print canonically and as endpoints", "[core][ip]") {
  lastack::IpAddress a;
  REQUIRE(lastack::parse_ip("10.0.0.1", a));
  CHECK(a.version == 4);
  CHECK(lastack::format_endpoint(a, 80) == "10.0.0.1:80");
  REQUIRE(lastack::parse_ip("2001:0db8:0000:0000:0000:0000:0000:0001", a));
  CHECK(a.version == 6);
  CHECK(lastack::to_string(a) == "2001:db8::1");
  CHECK(lastack::format_endpoint(a, 443) == "[2001:db8::1]:443");
  CHECK_FALSE(lastack::parse_ip("10.0.0.256", a));
  CHECK_FALSE(lastack::parse_ip("example.com", a));
}

TEST_CASE("IP addresses order IPv4 before IPv6", "[core][ip]") {
  lastack::IpAddress v4;
  lastack::IpAddress v6;
  REQUIRE(lastack::parse_ip("255.255.255.255", v4));
  REQUIRE(lastack::parse_ip("::1", v6));
  CHECK(v4 < v6);
}
