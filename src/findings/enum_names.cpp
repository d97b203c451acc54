// The snake_case names of the finding-model enums. These strings are part of the report
// contract (JSON, SQLite, text): users script against them, so they never change.
#include <array>
#include <string_view>

#include "lastack/findings/connection_summary.h"
#include "lastack/findings/finding.h"

namespace lastack::findings {

namespace {

constexpr std::array<std::string_view, 4> kSeverityNames{"info", "warning", "error", "critical"};
constexpr std::array<std::string_view, 2> kConfidenceNames{"confirmed", "probable"};
constexpr std::array<std::string_view, 5> kCloseKindNames{"fin", "half_closed", "rst", "abortive",
                                                          "open_at_end"};
constexpr std::array<std::string_view, 4> kSideNames{"none", "client", "server", "both"};
constexpr std::array<std::string_view, 4> kVantageNames{"unknown", "near_client", "near_server",
                                                        "in_path"};

// Out-of-range values (a cast gone wrong) print as "?" rather than reading past the table.
template <class E, std::size_t N>
std::string_view name_of(const std::array<std::string_view, N>& names, E value) {
  const auto i = static_cast<std::size_t>(value);
  return i < N ? names[i] : std::string_view("?");
}

template <class E, std::size_t N>
bool parse_name(const std::array<std::string_view, N>& names, std::string_view text, E& out) {
  for (std::size_t i = 0; i < N; ++i) {
    if (names[i] == text) {
      out = static_cast<E>(i);
      return true;
    }
  }
  return false;
}

}  // namespace

std::string_view to_string(Severity s) {
  return name_of(kSeverityNames, s);
}
std::string_view to_string(Confidence c) {
  return name_of(kConfidenceNames, c);
}
std::string_view to_string(CloseKind k) {
  return name_of(kCloseKindNames, k);
}
std::string_view to_string(Side s) {
  return name_of(kSideNames, s);
}
std::string_view to_string(Vantage v) {
  return name_of(kVantageNames, v);
}

bool parse_severity(std::string_view text, Severity& out) {
  return parse_name(kSeverityNames, text, out);
}
bool parse_confidence(std::string_view text, Confidence& out) {
  return parse_name(kConfidenceNames, text, out);
}
bool parse_close_kind(std::string_view text, CloseKind& out) {
  return parse_name(kCloseKindNames, text, out);
}
bool parse_side(std::string_view text, Side& out) {
  return parse_name(kSideNames, text, out);
}
bool parse_vantage(std::string_view text, Vantage& out) {
  return parse_name(kVantageNames, text, out);
}

}  // namespace lastack::findings
