// The JSON report of report-contract.md. Key order is written out explicitly (ordered_json for
// the report's head, JsonText for its findings and connections), so the layout below *is* the
// contract: add keys, never rename or reorder existing ones.
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "json_parts.h"
#include "lastack/core/ip_address.h"
#include "lastack/core/timestamp.h"
#include "lastack/sink/sinks.h"

namespace lastack::sink {

using detail::Json;
namespace f = findings;

namespace {

Json ts_json(const std::optional<Timestamp>& ts) {
  return ts ? Json(format_rfc3339(*ts)) : Json(nullptr);
}

Json input_json(const f::InputReport& in) {
  Json j = Json::object();
  j["path"] = in.path;  // exactly as given: never made absolute
  j["format"] = in.format;
  j["compression"] = in.compression.empty() ? Json(nullptr) : Json(in.compression);
  j["link_types"] = in.link_types;
  j["packets"] = in.packets;
  j["size_bytes"] = in.size_bytes;
  j["first_ts"] = ts_json(in.first_ts);
  j["last_ts"] = ts_json(in.last_ts);
  j["status"] = in.status;
  j["error"] = in.error ? Json(*in.error) : Json(nullptr);
  j["error_offset"] = in.error_offset ? Json(*in.error_offset) : Json(nullptr);
  j["interface_drops"] = in.interface_drops;
  return j;
}

// Severities in rank order (not alphabetical), only those that occur.
Json by_severity_json(const f::Report& r) {
  const auto counts = r.findings_by_severity();
  Json j = Json::object();
  for (f::Severity s :
       {f::Severity::info, f::Severity::warning, f::Severity::error, f::Severity::critical}) {
    const auto it = counts.find(std::string(f::to_string(s)));
    if (it != counts.end()) j[it->first] = it->second;
  }
  return j;
}

Json summary_json(const f::Report& r) {
  const f::Counters& c = r.counters;
  Json j = Json::object();
  j["packets"] = c.packets;
  j["tcp_packets"] = c.tcp_packets;
  j["connections"] = r.connection_count;
  j["not_ip"] = c.not_ip;
  j["not_tcp"] = c.not_tcp;
  j["fragments"] = c.fragments;
  j["unsupported_link"] = c.unsupported_link;
  j["duplicates"] = c.duplicates;
  j["late_segments"] = c.late_segments;
  j["filtered_out"] = c.filtered_out;
  j["malformed"] = Json::object();
  for (const auto& [reason, n] : c.malformed) j["malformed"][reason] = n;
  Json by_kind = Json::object();
  for (const auto& [kind, n] : r.findings_by_kind()) by_kind[kind] = n;
  j["findings"] = Json{{"by_kind", by_kind}, {"by_severity", by_severity_json(r)}};
  return j;
}

// Connections by id, built once per report (a linear search per finding would be quadratic on
// large captures).
class ConnectionIndex {
 public:
  explicit ConnectionIndex(const f::Report& r) {
    for (const f::ConnectionSummary& c : r.connections) by_id_.emplace(c.id, &c);
  }
  [[nodiscard]] const f::ConnectionSummary* find(std::uint64_t id) const {
    const auto it = by_id_.find(id);
    return it == by_id_.end() ? nullptr : it->second;
  }

 private:
  std::unordered_map<std::uint64_t, const f::ConnectionSummary*> by_id_;
};

// A finding whose connection is missing is a pipeline bug: the endpoints print as null, which
// the schema rejects, so tests notice instead of the report quietly inventing endpoints.
void write_finding_connection(detail::JsonText& out, const ConnectionIndex& index,
                              const f::Finding& fd) {
  const f::ConnectionSummary* c = index.find(fd.connection_id);
  out.begin_object();
  out.key("id");
  out.number(fd.connection_id);
  const auto endpoint = [&out](std::string_view key, const IpAddress* ip, std::uint16_t port) {
    out.key(key);
    if (ip == nullptr) return out.null();
    out.string(format_endpoint(*ip, port));
  };
  endpoint("client", c ? &c->client_ip : nullptr, c ? c->client_port : 0);
  endpoint("server", c ? &c->server_ip : nullptr, c ? c->server_port : 0);
  out.key("incarnation");
  if (c) {
    out.number(std::uint64_t{c->incarnation});
  } else {
    out.null();
  }
  out.end_object();
}

std::uint32_t finding_input(const ConnectionIndex& index, const f::Finding& fd) {
  if (!fd.frames.empty()) return fd.frames.front().input;
  const f::ConnectionSummary* c = index.find(fd.connection_id);
  return c ? c->input : 0;
}

// A finding as an element of the report's "findings" array (depth 2).
void write_finding(std::string& text, const ConnectionIndex& index, const f::Finding& fd) {
  auto out = detail::JsonText::pretty(text, 2);
  out.begin_object();
  out.key("id");
  out.number(fd.id);
  out.key("kind");
  out.string(fd.kind);
  out.key("cause");
  out.string(fd.cause);
  out.key("severity");
  out.string(f::to_string(fd.severity));
  out.key("confidence");
  out.string(f::to_string(fd.confidence));
  // A finding about no single connection (time_wait_pressure) has connection null and says
  // what it is about in "subject" (a key only such findings carry).
  out.key("connection");
  if (fd.connection_id == 0) {
    out.null();
    out.key("subject");
    out.string(fd.subject);
  } else {
    write_finding_connection(out, index, fd);
  }
  out.key("ts");
  Rfc3339Buffer ts;
  out.string({ts.data(), format_rfc3339(fd.ts, ts)});
  out.key("input");
  out.number(std::uint64_t{finding_input(index, fd)});
  out.key("frames");
  detail::write_frame_numbers(out, fd.frames);
  if (detail::frames_span_inputs(fd.frames)) {
    out.key("frame_refs");
    detail::write_frame_refs(out, fd.frames);
  }
  out.key("message");
  out.string(fd.message);
  out.key("evidence");
  detail::write_evidence(out, fd.evidence);
  out.key("related");
  detail::write_ids(out, fd.related_ids);
  out.end_object();
}

// A connection summary as an element of the report's "connections" array: a report lists up
// to every connection (--connections all), and building a JSON value per summary cost more than
// the rest of the report.
void write_connection(std::string& text, const f::ConnectionSummary& c) {
  auto out = detail::JsonText::pretty(text, 2);
  const auto number = [&out](std::string_view k, std::uint64_t v) {
    out.key(k);
    out.number(v);
  };
  const auto boolean = [&out](std::string_view k, bool v) {
    out.key(k);
    out.boolean(v);
  };
  const auto string = [&out](std::string_view k, std::string_view v) {
    out.key(k);
    out.string(v);
  };
  const auto timestamp = [&string](std::string_view k, Timestamp ts) {
    Rfc3339Buffer buf;
    string(k, std::string_view(buf.data(), format_rfc3339(ts, buf)));
  };
  out.begin_object();
  number("id", c.id);
  string("client", format_endpoint(c.client_ip, c.client_port));
  string("server", format_endpoint(c.server_ip, c.server_port));
  number("incarnation", c.incarnation);
  number("input", c.input);
  number("first_frame", c.first_frame);
  timestamp("first_ts", c.first_ts);
  timestamp("last_ts", c.last_ts);
  boolean("handshake_seen", c.handshake_seen);
  boolean("mid_stream", c.mid_stream);
  string("close_kind", f::to_string(c.close_kind));
  string("active_closer", f::to_string(c.active_closer));
  string("time_wait_holder", f::to_string(c.time_wait_holder));
  if (c.time_wait_start) {
    timestamp("time_wait_start", *c.time_wait_start);
  } else {
    out.key("time_wait_start");
    out.null();
  }
  boolean("final_ack_seen", c.final_ack_seen);
  string("client_state", c.client_final_state);
  string("server_state", c.server_final_state);
  number("packets_c2s", c.client.packets);
  number("packets_s2c", c.server.packets);
  number("bytes_c2s", c.client.bytes);
  number("bytes_s2c", c.server.bytes);
  number("syns_c2s", c.client.syns);
  number("fins_c2s", c.client.fins);
  number("rsts_c2s", c.client.rsts);
  number("syns_s2c", c.server.syns);
  number("fins_s2c", c.server.fins);
  number("rsts_s2c", c.server.rsts);
  string("history", c.history);
  string("vantage", f::to_string(c.vantage));
  number("interface_id", c.interface_id);
  if (c.vlan != 0) number("vlan", c.vlan);  // only when tagged: untagged reports stay as they were
  out.key("finding_ids");
  detail::write_ids(out, c.finding_ids);
  out.end_object();
}

// The TIME_WAIT pressure section: the 20 pairs and holders with the highest peaks, plus every
// one a finding names; the SQLite database keeps them all.
constexpr std::size_t kTimeWaitListed = 20;

Json peak_frame_json(const f::PeakAt& p) {
  if (p.frame.frame_no == 0) return Json(nullptr);
  return Json{{"input", p.frame.input}, {"frame", p.frame.frame_no}};
}

Json offset_json(const f::PeakAt& p, const f::TimeWaitPressure& tw) {
  if (!p.ts || !tw.capture_start) return Json(nullptr);
  return detail::seconds_json(*p.ts - *tw.capture_start);
}

Json series_json(const f::StepSeries& series) {
  Json a = Json::array();
  for (const auto& [t, v] : series) a.push_back(Json::array({t, v}));
  return a;
}

Json holder_json(const f::TimeWaitHolder& h, const f::TimeWaitPressure& tw) {
  Json j = Json::object();
  j["ip"] = to_string(h.ip);
  j["role"] = f::to_string(h.role);
  j["connections"] = h.connections;
  j["closed"] = h.closed;
  j["active_closes"] = h.active_closes;
  j["entries"] = h.entries;
  j["peak"] = h.peak.value;
  j["peak_ts"] = ts_json(h.peak.ts);
  j["peak_offset_s"] = offset_json(h.peak, tw);
  j["peak_frame"] = peak_frame_json(h.peak);
  j["peak_rate_per_s"] = h.peak_rate.value;
  j["peak_rate_ts"] = ts_json(h.peak_rate.ts);
  j["lower_bound"] = h.lower_bound;
  j["under_pressure"] = h.under_pressure;
  j["series"] = series_json(h.series);
  return j;
}

Json pair_json(const f::TimeWaitPair& p, const f::TimeWaitPressure& tw) {
  Json j = Json::object();
  j["client_ip"] = to_string(p.client_ip);
  j["server"] = format_endpoint(p.server_ip, p.server_port);
  j["connections"] = p.connections;
  j["outside_range"] = p.outside_range;
  j["time_wait_entries"] = p.time_wait_entries;
  j["peak_ports_in_use"] = p.peak.value;
  j["time_wait_at_peak"] = p.time_wait_at_peak;
  const std::uint64_t range = tw.range_size();
  j["range_share"] =
      range ? detail::report_double(static_cast<double>(p.peak.value) / static_cast<double>(range))
            : 0.0;
  j["peak_ts"] = ts_json(p.peak.ts);
  j["peak_offset_s"] = offset_json(p.peak, tw);
  j["peak_frame"] = peak_frame_json(p.peak);
  j["peak_rate_per_s"] = p.peak_rate.value;
  j["peak_rate_ts"] = ts_json(p.peak_rate.ts);
  const auto sustainable = tw.sustainable_rate();
  j["rate_above_sustainable"] =
      sustainable.has_value() && static_cast<double>(p.peak_rate.value) > *sustainable;
  j["lower_bound"] = p.lower_bound;
  j["under_pressure"] = p.under_pressure;
  j["series"] = series_json(p.series);
  return j;
}

template <class T, class ToJson>
Json listed_json(const std::vector<T>& all, ToJson to_json_fn) {
  Json a = Json::array();
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (i < kTimeWaitListed || all[i].under_pressure) a.push_back(to_json_fn(all[i]));
  }
  return a;
}

Json time_wait_json(const f::TimeWaitPressure& tw) {
  Json j = Json::object();
  j["time_wait_s"] = detail::seconds_json(tw.time_wait);
  j["port_range"] = Json{{"lo", tw.port_lo}, {"hi", tw.port_hi}, {"size", tw.range_size()}};
  const auto sustainable = tw.sustainable_rate();
  j["sustainable_rate_per_s"] =
      sustainable ? Json(detail::report_double(*sustainable)) : Json(nullptr);
  j["server_tw_peak"] = tw.server_peak_warn;
  j["capture_start"] = ts_json(tw.capture_start);
  j["capture_end"] = ts_json(tw.capture_end);
  j["series_step_s"] = tw.series_step_s;
  j["late_events"] = tw.late_events;
  j["lower_bound"] = true;  // always: what began before the capture is not seen
  j["holders_total"] = tw.holders.size();
  j["pairs_total"] = tw.pairs.size();
  j["holders"] = listed_json(tw.holders, [&](const auto& h) { return holder_json(h, tw); });
  j["pairs"] = listed_json(tw.pairs, [&](const auto& p) { return pair_json(p, tw); });
  return j;
}

// What --memcap made the analysis give up; the 20 most targeted servers are listed.
constexpr std::size_t kDegradedTargetsListed = 20;

Json degraded_json(const f::Degradation& d) {
  Json targets = Json::array();
  for (std::size_t i = 0; i < d.targets.size() && i < kDegradedTargetsListed; ++i) {
    const f::Degradation::Target& t = d.targets[i];
    targets.push_back(Json{{"server", format_endpoint(t.ip, t.port)}, {"half_open", t.half_open}});
  }
  Json j = Json::object();
  j["memcap_bytes"] = d.memcap_bytes;
  j["evicted_half_open"] = d.evicted_half_open;
  j["evicted_live"] = d.evicted_live;
  j["evicted_tombstones"] = d.evicted_tombstones;
  j["targets_total"] = d.targets.size();
  j["other_targets_half_open"] = d.other_targets;
  j["targets"] = std::move(targets);
  return j;
}

// Everything but the elements of "findings" and "connections" (left empty): small, whatever
// the size of the capture.
Json report_head_json(const f::Report& r) {
  Json j = Json::object();
  j["schema_version"] = 1;
  j["tool"] = Json{{"name", "lastack"}, {"version", r.tool_version}};
  j["settings"] = detail::settings_json(r.settings);
  j["inputs"] = Json::array();
  for (const f::InputReport& in : r.inputs) j["inputs"].push_back(input_json(in));
  j["summary"] = summary_json(r);
  j["findings"] = Json::array();
  j["connections"] = Json::array();
  if (r.time_wait) j["time_wait"] = time_wait_json(*r.time_wait);
  if (r.degraded) j["degraded"] = degraded_json(*r.degraded);
  return j;
}

// Emits one top-level array's elements where the head has `"key": []`, exactly as a dump of the
// whole document would lay them out (indent 2, elements at depth 2). `write(i, out)` appends
// element i as it sits there: its lines after the first indented by four more spaces. The text
// goes to `emit` in pieces of about 64 KiB.
template <class Write>
bool emit_array(std::string_view key, std::size_t count, Write&& write, std::string_view& rest,
                const JsonEmit& emit) {
  const std::string marker = "\n  \"" + std::string(key) + "\": []";
  const std::size_t at = rest.find(marker);
  if (at == std::string_view::npos) return emit(rest);  // cannot happen: the head has the key
  const std::size_t open = at + marker.size() - 1;      // just after '['
  if (!emit(rest.substr(0, open))) return false;
  rest.remove_prefix(open);  // now "]..."
  if (count == 0) return true;
  constexpr std::size_t kPiece = std::size_t{64} * 1024;
  std::string piece;
  for (std::size_t i = 0; i < count; ++i) {
    piece += i == 0 ? "\n    " : ",\n    ";
    write(i, piece);
    if (piece.size() >= kPiece) {
      if (!emit(piece)) return false;
      piece.clear();
    }
  }
  piece += "\n  ";
  return emit(piece);
}

}  // namespace

bool stream_json(const findings::Report& report, const JsonEmit& emit) {
  const std::string head = detail::dump(report_head_json(report), 2) + "\n";
  std::string_view rest = head;
  const ConnectionIndex index(report);
  const std::vector<const f::ConnectionSummary*> listed = report.listed_connections();
  f::FindingReader findings(report);
  const auto write_nth_finding = [&](std::size_t i, std::string& out) {
    write_finding(out, index, findings[i]);
  };
  if (!emit_array("findings", findings.size(), write_nth_finding, rest, emit)) return false;
  const auto write_nth_connection = [&](std::size_t i, std::string& out) {
    write_connection(out, *listed[i]);
  };
  if (!emit_array("connections", listed.size(), write_nth_connection, rest, emit)) return false;
  return emit(rest);
}

std::string to_json(const findings::Report& report) {
  std::string out;
  stream_json(report, [&out](std::string_view piece) {
    out.append(piece);
    return true;
  });
  return out;
}

}  // namespace lastack::sink
