// Pieces of the JSON report shared by the JSON and SQLite sinks (the SQLite tables store the
// settings, evidence, frames and related ids as JSON text in the same shapes as the report).
// Private to the sink layer.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "json_text.h"
#include "lastack/findings/report.h"

namespace lastack::sink::detail {

using Json = nlohmann::ordered_json;

// A double as the report prints it: rounded to microseconds (evidence numbers are mostly
// durations in seconds), so that float noise such as 0.21000000000000002 never reaches a report
// and the same capture always gives the same text.
double report_double(double value);

// A duration in seconds: an integer when whole ("msl_s": 30), else a rounded double.
Json seconds_json(Duration d);

Json settings_json(const findings::Settings& s);

// A finding's parts, as the report and the SQLite findings table write them.
// Evidence: an object in the detector's order; a repeated key keeps its first position and takes
// the last value (what ordered_json's operator[] did when the report built it as a JSON value).
void write_evidence(JsonText& out, const findings::Evidence& evidence);
void write_frame_numbers(JsonText& out, const std::vector<findings::FrameRef>& frames);
// [{"input": i, "frame": n}, ...]
void write_frame_refs(JsonText& out, const std::vector<findings::FrameRef>& frames);
void write_ids(JsonText& out, const std::vector<std::uint64_t>& ids);

// True when a finding's frames come from more than one input.
bool frames_span_inputs(const std::vector<findings::FrameRef>& frames);

// Serialises without ever throwing: invalid UTF-8 (a path or message from a hostile capture)
// is replaced with U+FFFD instead of raising nlohmann's type_error.
std::string dump(const Json& j, int indent);

}  // namespace lastack::sink::detail

namespace lastack::sink {

// Receives the JSON report piece by piece; returns false to stop (a write failed).
using JsonEmit = std::function<bool(std::string_view)>;

// The JSON report of to_json(), streamed: the findings and connections are serialised one at
// a time, so memory does not hold a document tree of the whole report. False when emit did.
bool stream_json(const findings::Report& report, const JsonEmit& emit);

}  // namespace lastack::sink
