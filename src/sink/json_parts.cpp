#include "json_parts.h"

#include <algorithm>
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

void write_evidence_value(JsonText& out, const findings::EvidenceValue& value) {
  std::visit(
      [&out](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, bool>) {
          out.boolean(v);
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          out.number(v);
        } else if constexpr (std::is_same_v<T, double>) {
          out.number(report_double(v));
        } else if constexpr (std::is_same_v<T, std::string>) {
          out.string(v);
        } else {  // vector<double>, vector<int64>
          out.begin_array();
          for (const auto x : v) {
            if constexpr (std::is_same_v<T, std::vector<double>>) {
              out.number(report_double(x));
            } else {
              out.number(x);
            }
          }
          out.end_array();
        }
      },
      value);
}

}  // namespace

void write_evidence(JsonText& out, const findings::Evidence& evidence) {
  out.begin_object();
  for (std::size_t i = 0; i < evidence.size(); ++i) {
    const std::string_view key = evidence[i].first;
    const auto same_key = [key](const auto& entry) { return entry.first == key; };
    const auto earlier = evidence.begin() + static_cast<std::ptrdiff_t>(i);
    if (std::any_of(evidence.begin(), earlier, same_key)) continue;  // written at its first place
    const auto last = std::find_if(evidence.rbegin(), evidence.rend(), same_key);
    out.key(key);
    write_evidence_value(out, last->second);
  }
  out.end_object();
}

void write_frame_numbers(JsonText& out, const std::vector<findings::FrameRef>& frames) {
  out.begin_array();
  for (const findings::FrameRef& f : frames) out.number(f.frame_no);
  out.end_array();
}

void write_frame_refs(JsonText& out, const std::vector<findings::FrameRef>& frames) {
  out.begin_array();
  for (const findings::FrameRef& f : frames) {
    out.begin_object();
    out.key("input");
    out.number(std::uint64_t{f.input});
    out.key("frame");
    out.number(f.frame_no);
    out.end_object();
  }
  out.end_array();
}

void write_ids(JsonText& out, const std::vector<std::uint64_t>& ids) {
  out.begin_array();
  for (std::uint64_t id : ids) out.number(id);
  out.end_array();
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
