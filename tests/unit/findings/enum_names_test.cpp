#include <catch2/catch.hpp>

#include "lastack/findings/connection_summary.h"
#include "lastack/findings/finding.h"

namespace f = lastack::findings;

TEST_CASE("Severity and confidence names are the contract's snake_case ids", "[findings]") {
  CHECK(f::to_string(f::Severity::info) == "info");
  CHECK(f::to_string(f::Severity::warning) == "warning");
  CHECK(f::to_string(f::Severity::error) == "error");
  CHECK(f::to_string(f::Severity::critical) == "critical");
  CHECK(f::to_string(f::Confidence::confirmed) == "confirmed");
  CHECK(f::to_string(f::Confidence::probable) == "probable");
}

TEST_CASE("Summary enum names are the contract's snake_case ids", "[findings]") {
  CHECK(f::to_string(f::CloseKind::fin) == "fin");
  CHECK(f::to_string(f::CloseKind::half_closed) == "half_closed");
  CHECK(f::to_string(f::CloseKind::rst) == "rst");
  CHECK(f::to_string(f::CloseKind::abortive) == "abortive");
  CHECK(f::to_string(f::CloseKind::open_at_end) == "open_at_end");
  CHECK(f::to_string(f::Side::none) == "none");
  CHECK(f::to_string(f::Side::client) == "client");
  CHECK(f::to_string(f::Side::server) == "server");
  CHECK(f::to_string(f::Side::both) == "both");
  CHECK(f::to_string(f::Vantage::unknown) == "unknown");
  CHECK(f::to_string(f::Vantage::near_client) == "near_client");
  CHECK(f::to_string(f::Vantage::near_server) == "near_server");
  CHECK(f::to_string(f::Vantage::in_path) == "in_path");
  CHECK(f::to_string(static_cast<f::Side>(42)) == "?");
}

TEST_CASE("Enum names parse back, and only exactly", "[findings]") {
  f::Severity s = f::Severity::info;
  CHECK(f::parse_severity("critical", s));
  CHECK(s == f::Severity::critical);
  CHECK(f::parse_severity("warning", s));
  CHECK(s == f::Severity::warning);
  CHECK_FALSE(f::parse_severity("Warning", s));
  CHECK_FALSE(f::parse_severity("never", s));  // "never" is a --fail-on value, not a severity
  CHECK_FALSE(f::parse_severity("", s));
  CHECK(s == f::Severity::warning);  // untouched on failure

  f::Confidence c = f::Confidence::confirmed;
  CHECK(f::parse_confidence("probable", c));
  CHECK(c == f::Confidence::probable);
  CHECK_FALSE(f::parse_confidence("likely", c));

  f::CloseKind k = f::CloseKind::fin;
  CHECK(f::parse_close_kind("half_closed", k));
  CHECK(k == f::CloseKind::half_closed);
  CHECK_FALSE(f::parse_close_kind("half-closed", k));

  f::Side side = f::Side::none;
  CHECK(f::parse_side("both", side));
  CHECK(side == f::Side::both);
  CHECK_FALSE(f::parse_side("clients", side));

  f::Vantage v = f::Vantage::unknown;
  CHECK(f::parse_vantage("in_path", v));
  CHECK(v == f::Vantage::in_path);
  CHECK_FALSE(f::parse_vantage("near", v));
}
