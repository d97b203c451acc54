#include "json_parts.h"

#include <cmath>
#include <type_traits>
#include <variant>

namespace lastack::sink::detail {

double report_double(double value) {
  // Beyond 1e9 the scaled value would lose integer precision; such numbers are not durations
  // and print exactly anyway. NaN and infinities are left for nlohmann (it prints null).
  if (!std::isfinite(value) || std::fabs(value) >= 1e9) return value;
  const double rounded = std::round(value * 1e6) / 1e6;
  return rounded == 0.0 ? 0.0 : rounded;  // no "-0.0" in reports
}

Json seconds_json(Duration d) {
  constexpr std::int64_t kNsPerSec = 1'000'000'000;
  if (d.ns % kNsPerSec == 0) return Json(d.ns / kNsPerSec);
  return Json(report_double(d.seconds()));
}

Json settings_json(const findings::Settings& s) {
  Json j = Json::object();
  j["msl_s"] = seconds_json(s.msl);
  j["time_wait_s"] = seconds_json(s.time_wait);
  j["filter"] = s.filter ? Json(*s.filter) : Json(nullptr);
  j["fail_on"] = s.fail_on ? std::string(findings::to_string(*s.fail_on)) : "never";
  j["connections"] = s.all_connections ? "all" : "with_findings";
  return j;
}

namespace {

Json evidence_value_json(const findings::EvidenceValue& value) {
  return std::visit(
      [](const auto& v) -> Json {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, double>) {
          return Json(report_double(v));
        } else if constexpr (std::is_same_v<T, std::vector<double>>) {
          Json a = Json::array();
          for (double d : v) a.push_back(report_double(d));
          return a;
        } else {
          return Json(v);  // bool, int64, string, vector<int64>
        }
      },
      value);
}

}  // namespace

Json evidence_json(const findings::Evidence& evidence) {
  Json j = Json::object();
  // Insertion order is the detector's order; a repeated key keeps its first position and takes
  // the last value (ordered_json's operator[] semantics).
  for (const auto& [key, value] : evidence) j[std::string(key)] = evidence_value_json(value);
  return j;
}

Json frame_numbers_json(const std::vector<findings::FrameRef>& frames) {
  Json a = Json::array();
  for (const findings::FrameRef& f : frames) a.push_back(f.frame_no);
  return a;
}

Json ids_json(const std::vector<std::uint64_t>& ids) {
  Json a = Json::array();
  for (std::uint64_t id : ids) a.push_back(id);
  return a;
}

bool frames_span_inputs(const std::vector<findings::FrameRef>& frames) {
  for (const findings::FrameRef& f : frames) {
    if (f.input != frames.front().input) return true;
  }
  return false;
}

std::string dump(const Json& j, int indent) {
  return j.dump(indent, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace lastack::sink::detail
